// ExceptionResponse [216] (62056-5-3): a server's answer to a PDU it cannot process at all (unknown service,
// service not allowed in this state, PDU too long...). Reader starts after the tag byte.
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { exceptionServiceErrorName, exceptionStateErrorName, INVOCATION_COUNTER_ERROR } from "./diagnostics.js";
import { writeU8, writeU32 } from "./fields.js";
import { ApduTag, type ExceptionResponse } from "./types.js";

/** ExceptionResponse with its names filled in; invocationCounter only for service-error invocation-counter-error. */
export function exceptionResponse(
  stateError: number,
  serviceError: number,
  invocationCounter?: number,
): ExceptionResponse {
  const out: ExceptionResponse = {
    tag: "exception-response",
    stateError,
    stateErrorName: exceptionStateErrorName(stateError),
    serviceError,
    serviceErrorName: exceptionServiceErrorName(serviceError),
  };
  if (serviceError === INVOCATION_COUNTER_ERROR) out.invocationCounter = invocationCounter ?? 0;
  return out;
}

export function writeExceptionResponse(w: ByteWriter, a: ExceptionResponse): void {
  w.writeUInt8(ApduTag.exceptionResponse);
  writeU8(w, a.stateError, "state-error");
  writeU8(w, a.serviceError, "service-error");
  if (a.serviceError === INVOCATION_COUNTER_ERROR) writeU32(w, a.invocationCounter ?? 0, "invocation-counter");
}

export function readExceptionResponse(r: ByteReader): ExceptionResponse {
  const stateError = r.readUInt8("state-error");
  const serviceError = r.readUInt8("service-error");
  const counter = serviceError === INVOCATION_COUNTER_ERROR ? r.readUInt32("invocation-counter") : undefined;
  return exceptionResponse(stateError, serviceError, counter);
}
