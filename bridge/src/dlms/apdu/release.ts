// RLRQ [APPLICATION 2] / RLRE [APPLICATION 3] (ACSE, BER): release request and response, both with an optional
// reason and optional user-information (an InitiateRequest / InitiateResponse when the association was ciphered).
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { forEachElement, readUserInformation, writeUserInformation } from "./acse-elements.js";
import { berUnsigned, constructed, readBerUnsigned, type Tlv, writeTlv } from "./ber.js";
import { writeInitiateRequest, writeInitiateResponse } from "./initiate.js";
import { ApduTag, type Rlre, type Rlrq } from "./types.js";

export const ReleaseField = { reason: 0x80, userInformation: 0xbe } as const;

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
