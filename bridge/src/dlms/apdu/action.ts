// ACTION service PDUs (62056-5-3), normal kind only: Action-Request [195] and Action-Response [199]. The client
// needs them for HLS pass 3/4 (Association LN method 1 reply_to_HLS_authentication). Readers start after the tag.
import { readData, writeData } from "../axdr/index.js";
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { LOGICAL_NAME_LENGTH } from "./attribute.js";
import { writeI8, writeU8, writeU16 } from "./fields.js";
import { readGetDataResult, writeGetDataResult } from "./get.js";
import { decodeInvokeIdAndPriority, encodeInvokeIdAndPriority } from "./invoke.js";
import { type ActionRequest, type ActionResponse, ApduTag } from "./types.js";

const NORMAL = 1;

function readNormalChoice(r: ByteReader, what: string): void {
  const at = r.offset;
  const kind = r.readUInt8(`${what} type`);
  if (kind !== NORMAL) {
    throw new DecodeError("unsupported", `${what} of kind ${kind} (only normal, 1, is supported)`, at);
  }
}

function readOptionalFlag(r: ByteReader, what: string): boolean {
  const at = r.offset;
  const flag = r.readUInt8(what);
  if (flag > 1) throw new DecodeError("malformed", `${what}: usage flag ${flag} at offset ${at}`, at);
  return flag === 1;
}

export function writeActionRequest(w: ByteWriter, a: ActionRequest): void {
  if (a.kind !== "normal") throw new LocalProtocolError(`unknown action-request kind "${String(a.kind)}"`);
  w.writeUInt8(ApduTag.actionRequest).writeUInt8(NORMAL).writeUInt8(encodeInvokeIdAndPriority(a.invoke));
  writeU16(w, a.method.classId, "class-id");
  if (a.method.instanceId.length !== LOGICAL_NAME_LENGTH) {
    throw new LocalProtocolError(
      `logical name must be ${LOGICAL_NAME_LENGTH} bytes, got ${a.method.instanceId.length}`,
    );
  }
  w.writeBytes(a.method.instanceId);
  writeI8(w, a.method.methodId, "method-id");
  if (a.parameters) {
    w.writeUInt8(1);
    writeData(w, a.parameters);
  } else {
    w.writeUInt8(0);
  }
}

export function readActionRequest(r: ByteReader): ActionRequest {
  readNormalChoice(r, "action-request");
  const invoke = decodeInvokeIdAndPriority(r.readUInt8("invoke-id-and-priority"));
  const method = {
    classId: r.readUInt16("class-id"),
    instanceId: r.readBytes(LOGICAL_NAME_LENGTH, "logical name").slice(),
    methodId: r.readInt8("method-id"),
  };
  const out: ActionRequest = { tag: "action-request", kind: "normal", invoke, method };
  if (readOptionalFlag(r, "method-invocation-parameters")) out.parameters = readData(r);
  return out;
}

export function writeActionResponse(w: ByteWriter, a: ActionResponse): void {
  if (a.kind !== "normal") throw new LocalProtocolError(`unknown action-response kind "${String(a.kind)}"`);
  w.writeUInt8(ApduTag.actionResponse).writeUInt8(NORMAL).writeUInt8(encodeInvokeIdAndPriority(a.invoke));
  writeU8(w, a.result, "action-result");
  if (a.returnParameters) {
    w.writeUInt8(1);
    writeGetDataResult(w, a.returnParameters);
  } else {
    w.writeUInt8(0);
  }
}

export function readActionResponse(r: ByteReader): ActionResponse {
  readNormalChoice(r, "action-response");
  const invoke = decodeInvokeIdAndPriority(r.readUInt8("invoke-id-and-priority"));
  const out: ActionResponse = { tag: "action-response", kind: "normal", invoke, result: r.readUInt8("action-result") };
  if (readOptionalFlag(r, "return-parameters")) out.returnParameters = readGetDataResult(r);
  return out;
}
