// APDU codec entry points for both roles: the client encodes requests and decodes responses, the simulator the
// reverse. Decoding dispatches on the first byte through a tag table, so ciphered PDUs (glo-/ded-, general-
// ciphering) become new rows rather than a reshaped decoder.
import { ByteReader } from "../codec/reader.js";
import { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { readAare, writeAare } from "./aare.js";
import { readAarq, writeAarq } from "./aarq.js";
import { readActionRequest, readActionResponse, writeActionRequest, writeActionResponse } from "./action.js";
import { hex2, readTlv } from "./ber.js";
import { describeApdu } from "./describe.js";
import { readExceptionResponse, writeExceptionResponse } from "./exception.js";
import { readGetRequest, readGetResponse, writeGetRequest, writeGetResponse } from "./get.js";
import {
  readConfirmedServiceError,
  readInitiateRequest,
  readInitiateResponse,
  writeConfirmedServiceError,
  writeInitiateRequest,
  writeInitiateResponse,
} from "./initiate.js";
import { readRlre, readRlrq, writeRlre, writeRlrq } from "./release.js";
import { noCodecError } from "./tags.js";
import { type Apdu, ApduTag } from "./types.js";

type Reader = (r: ByteReader) => Apdu;

/** ACSE APDUs are BER: the reader gets the contents bounded by the BER length. */
const acse =
  (read: Reader): Reader =>
  (r) =>
    read(readTlv(r).value);

/** xDLMS APDUs are A-XDR: the reader starts after the one-byte tag. */
const xdlms =
  (read: Reader): Reader =>
  (r) => {
    r.skip(1, "APDU tag");
    return read(r);
  };

const READERS: ReadonlyMap<number, Reader> = new Map<number, Reader>([
  [ApduTag.aarq, acse(readAarq)],
  [ApduTag.aare, acse(readAare)],
  [ApduTag.rlrq, acse(readRlrq)],
  [ApduTag.rlre, acse(readRlre)],
  [ApduTag.initiateRequest, xdlms(readInitiateRequest)],
  [ApduTag.initiateResponse, xdlms(readInitiateResponse)],
  [ApduTag.confirmedServiceError, xdlms(readConfirmedServiceError)],
  [ApduTag.getRequest, xdlms(readGetRequest)],
  [ApduTag.getResponse, xdlms(readGetResponse)],
  [ApduTag.actionRequest, xdlms(readActionRequest)],
  [ApduTag.actionResponse, xdlms(readActionResponse)],
  [ApduTag.exceptionResponse, xdlms(readExceptionResponse)],
]);

type Writers = { [K in Apdu["tag"]]: (w: ByteWriter, a: Extract<Apdu, { tag: K }>) => void };

const WRITERS: Writers = {
  aarq: writeAarq,
  aare: writeAare,
  rlrq: writeRlrq,
  rlre: writeRlre,
  "initiate-request": writeInitiateRequest,
  "initiate-response": writeInitiateResponse,
  "confirmed-service-error": writeConfirmedServiceError,
  "get-request": writeGetRequest,
  "get-response": writeGetResponse,
  "action-request": writeActionRequest,
  "action-response": writeActionResponse,
  "exception-response": writeExceptionResponse,
};

export function writeApdu(w: ByteWriter, a: Apdu): void {
  const write = WRITERS[a.tag] as ((w: ByteWriter, a: Apdu) => void) | undefined;
  if (!write) throw new LocalProtocolError(`cannot encode APDU "${String(a.tag)}"`);
  write(w, a);
}

/**
 * One writer kept for encodeApdu, so an APDU costs one allocation (its exact-size copy) instead of a writer too.
 * Taken while in use: an encodeApdu nested in another (an APDU built from an encoded one) gets a writer of its own.
 */
let spareWriter: ByteWriter | undefined = new ByteWriter(256);
/** A writer grown past this by a large APDU is not kept (it would hold that memory for good). */
const SPARE_WRITER_MAX = 4096;

/** Encodes an APDU; a field out of range (invoke id 16, 7-byte logical name...) throws LocalProtocolError. */
export function encodeApdu(a: Apdu): Uint8Array {
  const w = spareWriter?.reset() ?? new ByteWriter();
  spareWriter = undefined;
  try {
    writeApdu(w, a);
    return w.toBytes();
  } finally {
    if (w.capacity <= SPARE_WRITER_MAX) spareWriter = w;
  }
}

/** Reads one APDU from the reader and leaves it after the APDU (whatever follows is the caller's business). */
export function readApdu(r: ByteReader): Apdu {
  const at = r.offset;
  const tag = r.peekUInt8("APDU tag");
  const read = READERS.get(tag);
  if (!read) throw noCodecError(tag, at, "APDU");
  return read(r);
}

/**
 * Decodes exactly one APDU. Anything malformed, truncated or followed by extra bytes is a DecodeError; a known
 * but unimplemented PDU (ciphered, SET, ACTION...) is DecodeError "unsupported" naming it.
 */
export function decodeApdu(bytes: Uint8Array): Apdu {
  const { apdu, trailing } = decodeApduLenient(bytes);
  if (trailing.length > 0) {
    throw new DecodeError(
      "malformed",
      `${trailing.length} trailing byte(s) after ${describeApdu(apdu).split(" ", 1)[0]} (first 0x${hex2(trailing[0]!)})`,
      bytes.length - trailing.length,
    );
  }
  return apdu;
}

/** Like decodeApdu, but returns bytes after the APDU instead of failing (meters that append garbage to a reply). */
export function decodeApduLenient(bytes: Uint8Array): { apdu: Apdu; trailing: Uint8Array } {
  const r = new ByteReader(bytes);
  const apdu = readApdu(r);
  return { apdu, trailing: r.readRest() };
}

export { describeApdu, describeAttribute, describeData } from "./describe.js";
export { UNIMPLEMENTED_TAGS } from "./tags.js";
