// xDLMS InitiateRequest / InitiateResponse / ConfirmedServiceError (62056-5-3), A-XDR encoded. They travel inside
// the ACSE user-information field of AARQ/AARE (and optionally RLRQ/RLRE). Readers start after the tag byte.

import { readLength, writeLength } from "../axdr/index.js";
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { confirmedServiceName, serviceErrorClassName, serviceErrorName } from "./diagnostics.js";
import { writeI8, writeU8, writeU16 } from "./fields.js";
import { ApduTag, type ConfirmedServiceError, type InitiateRequest, type InitiateResponse } from "./types.js";

/** Conformance is [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)): 5F 1F, length 4, 0 unused bits, 3 bytes. */
const CONFORMANCE_TAG = [0x5f, 0x1f] as const;
const CONFORMANCE_LENGTH = 4;

export const DLMS_VERSION = 6;
/** vaa-name of the LN referencing association (0x0007); SN associations use the base name 0xFA00. */
export const VAA_NAME_LN = 0x0007;

export function writeConformance(w: ByteWriter, mask: number): void {
  if (!Number.isInteger(mask) || mask < 0 || mask > 0xff_ffff)
    throw new LocalProtocolError(`conformance ${mask} is not a 24-bit mask`);
  w.writeBytes(CONFORMANCE_TAG).writeUInt8(CONFORMANCE_LENGTH).writeUInt8(0);
  w.writeUInt8(mask >>> 16).writeUInt16(mask & 0xffff);
}

export function readConformance(r: ByteReader): number {
  const at = r.offset;
  const t0 = r.readUInt8("conformance tag");
  const t1 = r.readUInt8("conformance tag");
  if (t0 !== CONFORMANCE_TAG[0] || t1 !== CONFORMANCE_TAG[1]) {
    throw new DecodeError("malformed", `expected conformance tag 5F 1F at offset ${at}`, at);
  }
  const length = r.readUInt8("conformance length");
  if (length !== CONFORMANCE_LENGTH)
    throw new DecodeError("malformed", `conformance length ${length}, expected 4`, at + 2);
  r.readUInt8("conformance unused bits"); // always 0 for 24 bits; tolerated otherwise
  return (r.readUInt8("conformance") << 16) | r.readUInt16("conformance");
}

/** A-XDR OPTIONAL: a 0/1 presence flag, then the value when 1. */
function readPresence(r: ByteReader, what: string): boolean {
  const at = r.offset;
  const flag = r.readUInt8(what);
  if (flag > 1) throw new DecodeError("malformed", `${what}: usage flag ${flag} at offset ${at} (expected 0 or 1)`, at);
  return flag === 1;
}

function writeOptionalInt8(w: ByteWriter, v: number | undefined, what: string): void {
  if (v === undefined) {
    w.writeUInt8(0);
    return;
  }
  w.writeUInt8(1);
  writeI8(w, v, what);
}

export function writeInitiateRequest(w: ByteWriter, ir: InitiateRequest): void {
  w.writeUInt8(ApduTag.initiateRequest);
  if (ir.dedicatedKey) {
    w.writeUInt8(1);
    writeLength(w, ir.dedicatedKey.length);
    w.writeBytes(ir.dedicatedKey);
  } else {
    w.writeUInt8(0);
  }
  // response-allowed is BOOLEAN DEFAULT TRUE: the default is sent as "absent".
  if (ir.responseAllowed) w.writeUInt8(0);
  else w.writeUInt8(1).writeUInt8(0);
  writeOptionalInt8(w, ir.proposedQualityOfService, "proposed-quality-of-service");
  writeU8(w, ir.proposedDlmsVersion, "proposed-dlms-version-number");
  writeConformance(w, ir.proposedConformance);
  writeU16(w, ir.clientMaxReceivePduSize, "client-max-receive-pdu-size");
}

export function readInitiateRequest(r: ByteReader): InitiateRequest {
  let dedicatedKey: Uint8Array | undefined;
  if (readPresence(r, "dedicated-key")) dedicatedKey = r.readBytes(readLength(r), "dedicated-key").slice();
  const responseAllowed = readPresence(r, "response-allowed") ? r.readUInt8("response-allowed") !== 0 : true;
  const proposedQualityOfService = readPresence(r, "proposed-quality-of-service")
    ? r.readInt8("proposed-quality-of-service")
    : undefined;
  const ir: InitiateRequest = {
    tag: "initiate-request",
    responseAllowed,
    proposedDlmsVersion: r.readUInt8("proposed-dlms-version-number"),
    proposedConformance: readConformance(r),
    clientMaxReceivePduSize: r.readUInt16("client-max-receive-pdu-size"),
  };
  if (dedicatedKey) ir.dedicatedKey = dedicatedKey;
  if (proposedQualityOfService !== undefined) ir.proposedQualityOfService = proposedQualityOfService;
  return ir;
}

export function writeInitiateResponse(w: ByteWriter, ir: InitiateResponse): void {
  w.writeUInt8(ApduTag.initiateResponse);
  writeOptionalInt8(w, ir.negotiatedQualityOfService, "negotiated-quality-of-service");
  writeU8(w, ir.negotiatedDlmsVersion, "negotiated-dlms-version-number");
  writeConformance(w, ir.negotiatedConformance);
  writeU16(w, ir.serverMaxReceivePduSize, "server-max-receive-pdu-size");
  writeU16(w, ir.vaaName, "vaa-name");
}

export function readInitiateResponse(r: ByteReader): InitiateResponse {
  const qos = readPresence(r, "negotiated-quality-of-service")
    ? r.readInt8("negotiated-quality-of-service")
    : undefined;
  const ir: InitiateResponse = {
    tag: "initiate-response",
    negotiatedDlmsVersion: r.readUInt8("negotiated-dlms-version-number"),
    negotiatedConformance: readConformance(r),
    serverMaxReceivePduSize: r.readUInt16("server-max-receive-pdu-size"),
    vaaName: r.readUInt16("vaa-name"),
  };
  if (qos !== undefined) ir.negotiatedQualityOfService = qos;
  return ir;
}

/** A ConfirmedServiceError value with its names filled in from the numbers. */
export function confirmedServiceError(service: number, errorClass: number, errorCode: number): ConfirmedServiceError {
  return {
    tag: "confirmed-service-error",
    service,
    serviceName: confirmedServiceName(service),
    errorClass,
    errorClassName: serviceErrorClassName(errorClass),
    errorCode,
    errorName: serviceErrorName(errorClass, errorCode),
  };
}

export function writeConfirmedServiceError(w: ByteWriter, e: ConfirmedServiceError): void {
  w.writeUInt8(ApduTag.confirmedServiceError);
  writeU8(w, e.service, "confirmed-service-error service");
  writeU8(w, e.errorClass, "service-error class");
  writeU8(w, e.errorCode, "service-error code");
}

export function readConfirmedServiceError(r: ByteReader): ConfirmedServiceError {
  const service = r.readUInt8("confirmed-service-error service");
  const errorClass = r.readUInt8("service-error class");
  return confirmedServiceError(service, errorClass, r.readUInt8("service-error code"));
}
