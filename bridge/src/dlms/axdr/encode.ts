// A-XDR encoding of the COSEM Data CHOICE. Values that cannot be encoded (out of range, wrong shape) raise
// LocalProtocolError: they are our caller's bug, not the peer's.
import { ByteWriter } from "../codec/writer.js";
import { LocalProtocolError } from "../errors.js";
import { MAX_DEPTH } from "./depth.js";
import { writeLength } from "./length.js";
import { type SimpleData, writeSimple } from "./simple.js";
import { isSimpleType, writeCompactArray } from "./type-description.js";
import { DataTag, type DlmsData } from "./types.js";

export function writeData(w: ByteWriter, d: DlmsData, depth = 0): void {
  if (depth > MAX_DEPTH) throw new LocalProtocolError(`data nested deeper than ${MAX_DEPTH} levels`);
  const type: unknown = d !== null && typeof d === "object" ? d.type : undefined;
  if (typeof type !== "string" || !Object.hasOwn(DataTag, type)) {
    throw new LocalProtocolError(`not a DlmsData value (type ${String(type)})`);
  }
  w.writeUInt8(DataTag[d.type]);
  if (d.type === "array" || d.type === "structure") {
    if (!Array.isArray(d.value)) throw new LocalProtocolError(`${d.type} value must be an array`);
    writeLength(w, d.value.length);
    for (const item of d.value) writeData(w, item, depth + 1);
  } else if (d.type === "compact-array") {
    writeCompactArray(w, d, depth);
  } else if (isSimpleType(d.type)) {
    writeSimple(w, d as SimpleData);
  }
}

export function encodeData(d: DlmsData): Uint8Array {
  const w = new ByteWriter();
  writeData(w, d);
  return w.toBytes();
}
