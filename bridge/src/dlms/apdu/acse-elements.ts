// Elements shared by the ACSE APDUs (ISO 8650 as profiled by 62056-5-3): application-context-name, AP titles,
// mechanism, authentication value, INTEGER elements and user-information. The xDLMS APDU inside user-information
// is A-XDR (initiate.ts); its first byte picks the reader from a table, so ciphered variants slot in later.
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { DecodeError } from "../errors.js";
import {
  BerTag,
  berUnsigned,
  constructed,
  expectTlv,
  hex2,
  readBerUnsigned,
  readTlv,
  type Tlv,
  writeTlv,
} from "./ber.js";
import { readConfirmedServiceError, readInitiateRequest, readInitiateResponse } from "./initiate.js";
import { applicationContextFromOid, applicationContextOid, mechanismOid } from "./oids.js";
import { noCodecError } from "./tags.js";
import {
  ApduTag,
  type ApplicationContext,
  type AuthenticationMechanism,
  type CipheredUserInformation,
  type ConfirmedServiceError,
  type InitiateRequest,
  type InitiateResponse,
} from "./types.js";

/** application-context-name [1] and user-information [30] carry the same tags in AARQ and AARE. */
export const APPLICATION_CONTEXT_NAME_TAG = 0xa1;
export const USER_INFORMATION_TAG = 0xbe;
/** ACSE-requirements BIT STRING with only the authentication bit (bit 0) set: 1 bit used, 7 unused. */
const AUTHENTICATION_REQUIRED = Uint8Array.of(0x07, 0x80);
/** Authentication-value CHOICE: charstring [0] IMPLICIT GraphicString (LLS password, HLS challenge). */
const AUTH_VALUE_CHARSTRING = 0x80;

export function writeApplicationContext(w: ByteWriter, c: ApplicationContext): void {
  writeTlv(
    w,
    APPLICATION_CONTEXT_NAME_TAG,
    constructed((v) => writeTlv(v, BerTag.objectIdentifier, applicationContextOid(c))),
  );
}
export function readApplicationContext(t: Tlv): ApplicationContext {
  const body = expectTlv(t.value, BerTag.objectIdentifier, "application-context-name");
  return applicationContextFromOid(body.readRest(), t.offset);
}

export function writeApTitle(w: ByteWriter, tag: number, title: Uint8Array): void {
  writeTlv(
    w,
    tag,
    constructed((v) => writeTlv(v, BerTag.octetString, title)),
  );
}
export function readApTitle(t: Tlv): Uint8Array {
  return expectTlv(t.value, BerTag.octetString, "AP-title").readRest().slice();
}

export function writeMechanism(
  w: ByteWriter,
  requirementsTag: number,
  mechanismTag: number,
  m: AuthenticationMechanism,
): void {
  writeTlv(w, requirementsTag, AUTHENTICATION_REQUIRED);
  writeTlv(w, mechanismTag, mechanismOid(m));
}

export function writeAuthenticationValue(w: ByteWriter, tag: number, value: Uint8Array): void {
  writeTlv(
    w,
    tag,
    constructed((v) => writeTlv(v, AUTH_VALUE_CHARSTRING, value)),
  );
}
export function readAuthenticationValue(t: Tlv): Uint8Array {
  const inner = readTlv(t.value);
  if (inner.tag !== AUTH_VALUE_CHARSTRING) {
    throw new DecodeError(
      "unsupported",
      `authentication-value of kind 0x${hex2(inner.tag)} (only charstring)`,
      inner.offset,
    );
  }
  return inner.value.readRest().slice();
}

/** Writes a ciphered user-information as is. */
export function writeCipheredUserInformation(w: ByteWriter, ui: CipheredUserInformation): void {
  writeUserInformation(w, (v) => v.writeBytes(ui.bytes));
}

export function writeUserInformation(w: ByteWriter, writeXdlms: (v: ByteWriter) => void): void {
  const xdlms = constructed(writeXdlms);
  writeTlv(
    w,
    USER_INFORMATION_TAG,
    constructed((v) => writeTlv(v, BerTag.octetString, xdlms)),
  );
}

export type UserInformation = InitiateRequest | InitiateResponse | ConfirmedServiceError | CipheredUserInformation;
/** glo-initiateRequest, glo-initiateResponse, glo-confirmedServiceError: kept as bytes for dlms/security. */
const CIPHERED_USER_INFORMATION_TAGS: ReadonlySet<number> = new Set([0x21, 0x28, 0x2e]);
const USER_INFORMATION_READERS: ReadonlyMap<number, (r: ByteReader) => UserInformation> = new Map<
  number,
  (r: ByteReader) => UserInformation
>([
  [ApduTag.initiateRequest, readInitiateRequest],
  [ApduTag.initiateResponse, readInitiateResponse],
  [ApduTag.confirmedServiceError, readConfirmedServiceError],
]);

/** user-information: an OCTET STRING holding one xDLMS APDU, which must be one of `expected`. */
export function readUserInformation<T extends UserInformation["tag"]>(
  t: Tlv,
  expected: readonly T[],
): Extract<UserInformation, { tag: T }> {
  const body = expectTlv(t.value, BerTag.octetString, "user-information");
  const at = body.offset;
  if (CIPHERED_USER_INFORMATION_TAGS.has(body.peekUInt8("user-information xDLMS tag"))) {
    const pdu: CipheredUserInformation = { tag: "ciphered-user-information", bytes: body.readRest().slice() };
    if (!(expected as readonly string[]).includes(pdu.tag)) {
      throw new DecodeError("malformed", "user-information: a ciphered xDLMS APDU is not allowed here", at);
    }
    return pdu as Extract<UserInformation, { tag: T }>;
  }
  const tag = body.readUInt8("user-information xDLMS tag");
  const read = USER_INFORMATION_READERS.get(tag);
  if (!read) throw noCodecError(tag, at, "user-information");
  const pdu = read(body);
  if (!(expected as readonly string[]).includes(pdu.tag)) {
    throw new DecodeError("malformed", `user-information: ${pdu.tag} is not allowed here`, at);
  }
  if (body.isMore())
    throw new DecodeError("malformed", `user-information: ${body.remaining} trailing byte(s)`, body.offset);
  return pdu as Extract<UserInformation, { tag: T }>;
}

export function readIntegerElement(t: Tlv, what: string): number {
  return readBerUnsigned(expectTlv(t.value, BerTag.integer, what), what);
}

export function writeIntegerElement(w: ByteWriter, tag: number, n: number): void {
  writeTlv(
    w,
    tag,
    constructed((v) => writeTlv(v, BerTag.integer, berUnsigned(n))),
  );
}

/** Visits every element of a SEQUENCE body; unknown tags are skipped by the caller's switch. */
export function forEachElement(r: ByteReader, visit: (t: Tlv) => void): void {
  while (r.isMore()) visit(readTlv(r));
}

export function missing(what: string, apdu: string, r: ByteReader): DecodeError {
  return new DecodeError("malformed", `${apdu} without ${what}`, r.offset);
}
