// ACSE APDUs (ISO 8650 as profiled by 62056-5-3), BER encoded: AARQ [APPLICATION 0], AARE [APPLICATION 1],
// RLRQ [APPLICATION 2], RLRE [APPLICATION 3]. Readers take the contents (after tag and length). Elements we do not
// use (protocol-version, AE qualifiers, implementation-information...) are skipped, so richer peers still associate.
// The xDLMS APDU inside user-information is A-XDR (initiate.ts); ciphered variants are reported as unsupported.
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
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
import { ASSOCIATION_RESULTS, acseDiagnosticName } from "./diagnostics.js";
import {
  readConfirmedServiceError,
  readInitiateRequest,
  readInitiateResponse,
  writeConfirmedServiceError,
  writeInitiateRequest,
  writeInitiateResponse,
} from "./initiate.js";
import { applicationContextFromOid, applicationContextOid, mechanismFromOid, mechanismOid } from "./oids.js";
import { noCodecError } from "./tags.js";
import {
  type Aare,
  type Aarq,
  ApduTag,
  type ApplicationContext,
  type AuthenticationMechanism,
  type ConfirmedServiceError,
  type InitiateRequest,
  type InitiateResponse,
  type Rlre,
  type Rlrq,
} from "./types.js";

/** Context-specific tags of the AARQ fields we read or write. */
export const AarqField = {
  applicationContextName: 0xa1,
  callingApTitle: 0xa6,
  senderAcseRequirements: 0x8a,
  mechanismName: 0x8b,
  callingAuthenticationValue: 0xac,
  userInformation: 0xbe,
} as const;

export const AareField = {
  applicationContextName: 0xa1,
  result: 0xa2,
  resultSourceDiagnostic: 0xa3,
  respondingApTitle: 0xa4,
  responderAcseRequirements: 0x88,
  mechanismName: 0x89,
  respondingAuthenticationValue: 0xaa,
  userInformation: 0xbe,
} as const;

export const ReleaseField = { reason: 0x80, userInformation: 0xbe } as const;

/** result-source-diagnostic CHOICE: acse-service-user [1], acse-service-provider [2]. */
const DIAGNOSTIC_SOURCE_TAG = { user: 0xa1, provider: 0xa2 } as const;
/** ACSE-requirements BIT STRING with only the authentication bit (bit 0) set: 1 bit used, 7 unused. */
const AUTHENTICATION_REQUIRED = Uint8Array.of(0x07, 0x80);
/** Authentication-value CHOICE: charstring [0] IMPLICIT GraphicString (LLS password, HLS challenge). */
const AUTH_VALUE_CHARSTRING = 0x80;

// ---- shared element codecs ----

function writeApplicationContext(w: ByteWriter, c: ApplicationContext): void {
  writeTlv(
    w,
    AarqField.applicationContextName,
    constructed((v) => writeTlv(v, BerTag.objectIdentifier, applicationContextOid(c))),
  );
}
function readApplicationContext(t: Tlv): ApplicationContext {
  const body = expectTlv(t.value, BerTag.objectIdentifier, "application-context-name");
  return applicationContextFromOid(body.readRest(), t.offset);
}

function writeApTitle(w: ByteWriter, tag: number, title: Uint8Array): void {
  writeTlv(
    w,
    tag,
    constructed((v) => writeTlv(v, BerTag.octetString, title)),
  );
}
function readApTitle(t: Tlv): Uint8Array {
  return expectTlv(t.value, BerTag.octetString, "AP-title").readRest().slice();
}

function writeMechanism(
  w: ByteWriter,
  requirementsTag: number,
  mechanismTag: number,
  m: AuthenticationMechanism,
): void {
  writeTlv(w, requirementsTag, AUTHENTICATION_REQUIRED);
  writeTlv(w, mechanismTag, mechanismOid(m));
}

function writeAuthenticationValue(w: ByteWriter, tag: number, value: Uint8Array): void {
  writeTlv(
    w,
    tag,
    constructed((v) => writeTlv(v, AUTH_VALUE_CHARSTRING, value)),
  );
}
function readAuthenticationValue(t: Tlv): Uint8Array {
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

function writeUserInformation(w: ByteWriter, writeXdlms: (v: ByteWriter) => void): void {
  const xdlms = constructed(writeXdlms);
  writeTlv(
    w,
    AarqField.userInformation,
    constructed((v) => writeTlv(v, BerTag.octetString, xdlms)),
  );
}

type UserInformation = InitiateRequest | InitiateResponse | ConfirmedServiceError;
const USER_INFORMATION_READERS: ReadonlyMap<number, (r: ByteReader) => UserInformation> = new Map<
  number,
  (r: ByteReader) => UserInformation
>([
  [ApduTag.initiateRequest, readInitiateRequest],
  [ApduTag.initiateResponse, readInitiateResponse],
  [ApduTag.confirmedServiceError, readConfirmedServiceError],
]);

/** user-information: an OCTET STRING holding one xDLMS APDU, which must be one of `expected`. */
function readUserInformation<T extends UserInformation["tag"]>(
  t: Tlv,
  expected: readonly T[],
): Extract<UserInformation, { tag: T }> {
  const body = expectTlv(t.value, BerTag.octetString, "user-information");
  const at = body.offset;
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

function readIntegerElement(t: Tlv, what: string): number {
  return readBerUnsigned(expectTlv(t.value, BerTag.integer, what), what);
}

function writeIntegerElement(w: ByteWriter, tag: number, n: number): void {
  writeTlv(
    w,
    tag,
    constructed((v) => writeTlv(v, BerTag.integer, berUnsigned(n))),
  );
}

/** Visits every element of a SEQUENCE body; unknown tags are skipped by the caller's switch. */
function forEachElement(r: ByteReader, visit: (t: Tlv) => void): void {
  while (r.isMore()) visit(readTlv(r));
}

function missing(what: string, apdu: string, r: ByteReader): DecodeError {
  return new DecodeError("malformed", `${apdu} without ${what}`, r.offset);
}

// ---- AARQ ----

export function writeAarq(w: ByteWriter, a: Aarq): void {
  writeTlv(
    w,
    ApduTag.aarq,
    constructed((c) => {
      writeApplicationContext(c, a.applicationContext);
      if (a.callingApTitle) writeApTitle(c, AarqField.callingApTitle, a.callingApTitle);
      if (a.mechanism) writeMechanism(c, AarqField.senderAcseRequirements, AarqField.mechanismName, a.mechanism);
      if (a.authenticationValue)
        writeAuthenticationValue(c, AarqField.callingAuthenticationValue, a.authenticationValue);
      writeUserInformation(c, (v) => writeInitiateRequest(v, a.userInformation));
    }),
  );
}

export function readAarq(r: ByteReader): Aarq {
  let applicationContext: ApplicationContext | undefined;
  let userInformation: InitiateRequest | undefined;
  const optional: Pick<Aarq, "callingApTitle" | "mechanism" | "authenticationValue"> = {};
  forEachElement(r, (t) => {
    switch (t.tag) {
      case AarqField.applicationContextName:
        applicationContext = readApplicationContext(t);
        break;
      case AarqField.callingApTitle:
        optional.callingApTitle = readApTitle(t);
        break;
      case AarqField.mechanismName:
        optional.mechanism = mechanismFromOid(t.value.readRest(), t.offset);
        break;
      case AarqField.callingAuthenticationValue:
        optional.authenticationValue = readAuthenticationValue(t);
        break;
      case AarqField.userInformation:
        userInformation = readUserInformation(t, ["initiate-request"]);
        break;
    }
  });
  if (!applicationContext) throw missing("application-context-name", "AARQ", r);
  if (!userInformation) throw missing("user-information", "AARQ", r);
  return { tag: "aarq", applicationContext, ...optional, userInformation };
}

// ---- AARE ----

export function writeAare(w: ByteWriter, a: Aare): void {
  writeTlv(
    w,
    ApduTag.aare,
    constructed((c) => {
      writeApplicationContext(c, a.applicationContext);
      writeIntegerElement(c, AareField.result, associationResultCode(a.result));
      writeTlv(
        c,
        AareField.resultSourceDiagnostic,
        constructed((v) => writeIntegerElement(v, DIAGNOSTIC_SOURCE_TAG[a.diagnostic.source], a.diagnostic.code)),
      );
      if (a.respondingApTitle) writeApTitle(c, AareField.respondingApTitle, a.respondingApTitle);
      if (a.mechanism) writeMechanism(c, AareField.responderAcseRequirements, AareField.mechanismName, a.mechanism);
      if (a.respondingAuthenticationValue) {
        writeAuthenticationValue(c, AareField.respondingAuthenticationValue, a.respondingAuthenticationValue);
      }
      const ui = a.userInformation;
      if (ui) {
        writeUserInformation(c, (v) =>
          ui.tag === "initiate-response" ? writeInitiateResponse(v, ui) : writeConfirmedServiceError(v, ui),
        );
      }
    }),
  );
}

function associationResultCode(result: Aare["result"]): number {
  const code = ASSOCIATION_RESULTS.indexOf(result);
  if (code < 0) throw new LocalProtocolError(`unknown association result "${result}"`);
  return code;
}

function readDiagnostic(t: Tlv): Aare["diagnostic"] {
  const choice = readTlv(t.value);
  const source =
    choice.tag === DIAGNOSTIC_SOURCE_TAG.user
      ? "user"
      : choice.tag === DIAGNOSTIC_SOURCE_TAG.provider
        ? "provider"
        : undefined;
  if (!source)
    throw new DecodeError("malformed", `result-source-diagnostic of kind 0x${hex2(choice.tag)}`, choice.offset);
  const code = readIntegerElement(choice, "result-source-diagnostic");
  return { source, code, name: acseDiagnosticName(source, code) };
}

function readResult(t: Tlv): Aare["result"] {
  const code = readIntegerElement(t, "association result");
  const result = ASSOCIATION_RESULTS[code];
  if (!result) throw new DecodeError("malformed", `association result ${code} (expected 0..2)`, t.offset);
  return result;
}

export function readAare(r: ByteReader): Aare {
  let applicationContext: ApplicationContext | undefined;
  let result: Aare["result"] | undefined;
  // A missing diagnostic is tolerated as "null" (the result alone still says accepted or rejected).
  let diagnostic: Aare["diagnostic"] = { source: "user", code: 0, name: acseDiagnosticName("user", 0) };
  const optional: Pick<Aare, "respondingApTitle" | "mechanism" | "respondingAuthenticationValue" | "userInformation"> =
    {};
  forEachElement(r, (t) => {
    switch (t.tag) {
      case AareField.applicationContextName:
        applicationContext = readApplicationContext(t);
        break;
      case AareField.result:
        result = readResult(t);
        break;
      case AareField.resultSourceDiagnostic:
        diagnostic = readDiagnostic(t);
        break;
      case AareField.respondingApTitle:
        optional.respondingApTitle = readApTitle(t);
        break;
      case AareField.mechanismName:
        optional.mechanism = mechanismFromOid(t.value.readRest(), t.offset);
        break;
      case AareField.respondingAuthenticationValue:
        optional.respondingAuthenticationValue = readAuthenticationValue(t);
        break;
      case AareField.userInformation:
        optional.userInformation = readUserInformation(t, ["initiate-response", "confirmed-service-error"]);
        break;
    }
  });
  if (!applicationContext) throw missing("application-context-name", "AARE", r);
  if (!result) throw missing("result", "AARE", r);
  return { tag: "aare", applicationContext, result, diagnostic, ...optional };
}

// ---- RLRQ / RLRE ----

function writeRelease(
  w: ByteWriter,
  tag: number,
  reason: number | undefined,
  writeXdlms?: (v: ByteWriter) => void,
): void {
  writeTlv(
    w,
    tag,
    constructed((c) => {
      if (reason !== undefined) writeTlv(c, ReleaseField.reason, berUnsigned(reason));
      if (writeXdlms) writeUserInformation(c, writeXdlms);
    }),
  );
}

function readReason(t: Tlv): number {
  return readBerUnsigned(t.value, "release reason");
}

export function writeRlrq(w: ByteWriter, a: Rlrq): void {
  const ui = a.userInformation;
  writeRelease(w, ApduTag.rlrq, a.reason, ui && ((v) => writeInitiateRequest(v, ui)));
}

export function readRlrq(r: ByteReader): Rlrq {
  const out: Rlrq = { tag: "rlrq" };
  forEachElement(r, (t) => {
    if (t.tag === ReleaseField.reason) out.reason = readReason(t);
    else if (t.tag === ReleaseField.userInformation) out.userInformation = readUserInformation(t, ["initiate-request"]);
  });
  return out;
}

export function writeRlre(w: ByteWriter, a: Rlre): void {
  const ui = a.userInformation;
  writeRelease(w, ApduTag.rlre, a.reason, ui && ((v) => writeInitiateResponse(v, ui)));
}

export function readRlre(r: ByteReader): Rlre {
  const out: Rlre = { tag: "rlre" };
  forEachElement(r, (t) => {
    if (t.tag === ReleaseField.reason) out.reason = readReason(t);
    else if (t.tag === ReleaseField.userInformation)
      out.userInformation = readUserInformation(t, ["initiate-response"]);
  });
  return out;
}
