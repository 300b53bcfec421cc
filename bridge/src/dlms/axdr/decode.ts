// A-XDR decoding of the COSEM Data CHOICE. Every failure is a DecodeError; lengths are checked against the bytes
// left before anything is allocated, and nesting is capped at MAX_DEPTH.
import { ByteReader } from "../codec/reader.js";
import { DecodeError } from "../errors.js";
import { spendValues, type ValueBudget, valueBudget } from "./budget.js";
import { MAX_DEPTH } from "./depth.js";
import { readBoundedCount } from "./length.js";
import { readSimple } from "./simple.js";
import { isSimpleType, readCompactArray, typeNameOfTag } from "./type-description.js";
import type { DlmsData } from "./types.js";

/**
 * Reads ONE Data value (tag + body) and leaves the reader just after it. `depth` is the value's nesting level;
 * `budget` bounds the values produced (share one across the values of one reply).
 */
export function readData(r: ByteReader, depth = 0, budget: ValueBudget = valueBudget()): DlmsData {
  if (depth > MAX_DEPTH) throw new DecodeError("too-deep", `data nested deeper than ${MAX_DEPTH} levels`, r.offset);
  const at = r.offset;
  const tag = r.readUInt8("data tag");
  const type = typeNameOfTag(tag);
  if (type === undefined) {
    throw new DecodeError("unsupported", `unknown data tag 0x${tag.toString(16).padStart(2, "0")} at offset ${at}`, at);
  }
  if (isSimpleType(type)) return readSimple(r, type);
  if (type === "compact-array") return readCompactArray(r, depth, budget);
  // Each element takes at least its tag byte.
  const n = readBoundedCount(r, type, 1);
  spendValues(budget, n, r);
  const value: DlmsData[] = [];
  for (let i = 0; i < n; i++) value.push(readData(r, depth + 1, budget));
  return { type, value };
}

/** Decodes a buffer that must hold exactly one Data value. */
export function decodeData(bytes: Uint8Array): DlmsData {
  const r = new ByteReader(bytes);
  const data = readData(r);
  if (r.isMore()) {
    throw new DecodeError("malformed", `${r.remaining} trailing byte(s) after a ${data.type} value`, r.offset);
  }
  return data;
}

/** For meters that append garbage after a value: decodes the first value and hands back the rest, unparsed. */
export function decodeDataLenient(bytes: Uint8Array): { data: DlmsData; trailing: Uint8Array } {
  const r = new ByteReader(bytes);
  const data = readData(r);
  return { data, trailing: r.readRest().slice() };
}
