// Cosem-Attribute-Descriptor and Selective-Access-Descriptor (62056-5-3), shared by GET today and SET/ACTION later.
import { readData, writeData } from "../axdr/index.js";
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { writeI8, writeU8, writeU16 } from "./fields.js";
import type { AttributeRequest, SelectiveAccess } from "./types.js";

export const LOGICAL_NAME_LENGTH = 6;
/** Smallest encoding of an attribute request: class (2) + logical name (6) + attribute (1) + access flag (1). */
export const MIN_ATTRIBUTE_REQUEST_SIZE = 10;

export function writeAttributeRequest(w: ByteWriter, a: AttributeRequest): void {
  writeU16(w, a.classId, "class-id");
  if (a.instanceId.length !== LOGICAL_NAME_LENGTH) {
    throw new LocalProtocolError(`logical name must be ${LOGICAL_NAME_LENGTH} bytes, got ${a.instanceId.length}`);
  }
  w.writeBytes(a.instanceId);
  writeI8(w, a.attributeId, "attribute-id");
  writeSelectiveAccess(w, a.access);
}

export function readAttributeRequest(r: ByteReader): AttributeRequest {
  const out: AttributeRequest = {
    classId: r.readUInt16("class-id"),
    instanceId: r.readBytes(LOGICAL_NAME_LENGTH, "logical name").slice(),
    attributeId: r.readInt8("attribute-id"),
  };
  const access = readSelectiveAccess(r);
  if (access) out.access = access;
  return out;
}

/** access-selection OPTIONAL: usage flag, then selector and its parameters as Data. */
function writeSelectiveAccess(w: ByteWriter, access: SelectiveAccess | undefined): void {
  if (!access) {
    w.writeUInt8(0);
    return;
  }
  w.writeUInt8(1);
  writeU8(w, access.selector, "access-selector");
  writeData(w, access.parameters);
}

function readSelectiveAccess(r: ByteReader): SelectiveAccess | undefined {
  const at = r.offset;
  const flag = r.readUInt8("access-selection flag");
  if (flag === 0) return undefined;
  if (flag !== 1) throw new DecodeError("malformed", `access-selection usage flag ${flag} at offset ${at}`, at);
  return { selector: r.readUInt8("access-selector"), parameters: readData(r) };
}
