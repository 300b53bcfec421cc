// compact-array (62056-6-2): a TypeDescription followed by an octet string holding the elements without tags.
import type { ByteReader } from "../codec/reader.js";
import { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { MAX_VALUES, spendValues, type ValueBudget, valueBudget } from "./budget.js";
import { MAX_DEPTH } from "./depth.js";
import { readBoundedCount, writeLength } from "./length.js";
import { minSimpleSize, readSimple, type SimpleData, type SimpleTypeName, writeSimple } from "./simple.js";
import { DataTag, type DataTypeName, type DlmsData, type TypeDescription } from "./types.js";

/** Cap on values expanded from one compact array (the shared budget of budget.ts, which bounds a whole reply). */
export const MAX_COMPACT_VALUES = MAX_VALUES;

const NAME_OF_TAG = new Map<number, DataTypeName>(
  Object.entries(DataTag).map(([name, tag]) => [tag, name as DataTypeName]),
);

export function typeNameOfTag(tag: number): DataTypeName | undefined {
  return NAME_OF_TAG.get(tag);
}

function tooDeep(r: ByteReader, what: string): DecodeError {
  return new DecodeError("too-deep", `${what} nested deeper than ${MAX_DEPTH} levels`, r.offset);
}

export function readTypeDescription(r: ByteReader, depth = 0): TypeDescription {
  if (depth > MAX_DEPTH) throw tooDeep(r, "type description");
  const at = r.offset;
  const tag = r.readUInt8("type description tag");
  const type = typeNameOfTag(tag);
  if (type === undefined) throw new DecodeError("unsupported", `unknown type description tag 0x${hex2(tag)}`, at);
  if (type === "compact-array") throw new DecodeError("malformed", "compact-array inside a type description", at);
  if (type === "array") {
    const count = r.readUInt16("array description count");
    return { type, count, element: readTypeDescription(r, depth + 1) };
  }
  if (type === "structure") {
    const n = readBoundedCount(r, "structure description", 1);
    const elements: TypeDescription[] = [];
    for (let i = 0; i < n; i++) elements.push(readTypeDescription(r, depth + 1));
    return { type, elements };
  }
  return { type };
}

export function writeTypeDescription(w: ByteWriter, d: TypeDescription, depth = 0): void {
  if (depth > MAX_DEPTH) throw new LocalProtocolError(`type description nested deeper than ${MAX_DEPTH} levels`);
  w.writeUInt8(DataTag[d.type]);
  if (d.type === "array") {
    if (!Number.isInteger(d.count) || d.count < 0 || d.count > 0xffff) {
      throw new LocalProtocolError(`array description count ${d.count} is not in 0..65535`);
    }
    w.writeUInt16(d.count);
    writeTypeDescription(w, d.element, depth + 1);
  } else if (d.type === "structure") {
    writeLength(w, d.elements.length);
    for (const e of d.elements) writeTypeDescription(w, e, depth + 1);
  }
}

/** Fewest bytes one element of this description can take. */
export function minEncodedSize(d: TypeDescription): number {
  if (d.type === "array") return d.count * minEncodedSize(d.element);
  if (d.type === "structure") return d.elements.reduce((sum, e) => sum + minEncodedSize(e), 0);
  return minSimpleSize(d.type);
}

// Nesting needs no check here: it follows the description, whose depth readTypeDescription bounded.
function readByDescription(r: ByteReader, d: TypeDescription, budget: ValueBudget): DlmsData {
  spendValues(budget, 1, r);
  if (d.type === "array") {
    if (d.count * minEncodedSize(d.element) > r.remaining) {
      throw new DecodeError(
        "truncated",
        `compact-array element claims ${d.count} item(s), ${r.remaining} byte(s) remain`,
        r.offset,
      );
    }
    const value: DlmsData[] = [];
    for (let i = 0; i < d.count; i++) value.push(readByDescription(r, d.element, budget));
    return { type: "array", value };
  }
  if (d.type === "structure") {
    return { type: "structure", value: d.elements.map((e) => readByDescription(r, e, budget)) };
  }
  return readSimple(r, d.type);
}

/** Reads the compact-array body (after its tag). `depth` is the compact array's own depth. */
export function readCompactArray(r: ByteReader, depth: number, budget: ValueBudget = valueBudget()): DlmsData {
  const description = readTypeDescription(r, depth + 1);
  const contentsAt = r.offset;
  const contents = r.sub(readBoundedCount(r, "compact-array contents", 1), "compact-array contents");
  const min = minEncodedSize(description);
  if (min === 0 && contents.isMore()) {
    throw new DecodeError("malformed", "compact-array of zero-size elements has non-empty contents", contentsAt);
  }
  const value: DlmsData[] = [];
  while (contents.isMore()) value.push(readByDescription(contents, description, budget));
  return { type: "compact-array", description, value };
}

function mismatch(d: TypeDescription, v: DlmsData, why: string): LocalProtocolError {
  return new LocalProtocolError(`compact-array element ${v.type} does not match its description ${d.type}: ${why}`);
}

function writeByDescription(w: ByteWriter, d: TypeDescription, v: DlmsData, depth: number): void {
  if (depth > MAX_DEPTH) throw new LocalProtocolError(`compact-array element nested deeper than ${MAX_DEPTH} levels`);
  if (v.type !== d.type) throw mismatch(d, v, "different types");
  if (d.type === "array" && v.type === "array") {
    if (v.value.length !== d.count) throw mismatch(d, v, `${v.value.length} items, description says ${d.count}`);
    for (const item of v.value) writeByDescription(w, d.element, item, depth + 1);
  } else if (d.type === "structure" && v.type === "structure") {
    if (v.value.length !== d.elements.length) {
      throw mismatch(d, v, `${v.value.length} fields, description says ${d.elements.length}`);
    }
    v.value.forEach((field, i) => {
      writeByDescription(w, d.elements[i]!, field, depth + 1);
    });
  } else {
    writeSimple(w, v as SimpleData);
  }
}

/** Writes the compact-array body (after its tag). */
export function writeCompactArray(w: ByteWriter, d: Extract<DlmsData, { type: "compact-array" }>, depth: number): void {
  writeTypeDescription(w, d.description, depth + 1);
  const contents = new ByteWriter();
  for (const element of d.value) writeByDescription(contents, d.description, element, depth + 1);
  const bytes = contents.toBytes();
  writeLength(w, bytes.length);
  w.writeBytes(bytes);
}

export function isSimpleType(type: DataTypeName): type is SimpleTypeName {
  return type !== "array" && type !== "structure" && type !== "compact-array";
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, "0").toUpperCase();
}
