// IEC 62056-47 TCP/UDP wrapper: an 8-byte header before each APDU, all big-endian:
//   version (0x0001) | source wPort | destination wPort | length of the APDU that follows.
// PDUs are delimited by that length alone. There is no flag to resynchronise on, so a header that cannot be
// right (wrong version, length above the bound) means the stream has lost its framing: see WrapperDeframer.

import { joinBytes } from "../codec/bytes.js";
import { ByteReader } from "../codec/reader.js";
import { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError, SizeLimitError } from "../errors.js";
import type { DeframerResult } from "../hdlc/deframer.js";

export const WRAPPER_VERSION = 0x0001;
export const WRAPPER_HEADER_LENGTH = 8;
/** The length field is 16 bits. */
export const MAX_WRAPPER_PAYLOAD = 0xffff;

export interface WrapperPdu {
  version: number;
  srcWPort: number;
  dstWPort: number;
  payload: Uint8Array;
}

export function encodeWrapper(src: number, dst: number, payload: Uint8Array): Uint8Array {
  checkPort("source wPort", src);
  checkPort("destination wPort", dst);
  if (payload.length > MAX_WRAPPER_PAYLOAD) {
    throw new LocalProtocolError(`wrapper payload of ${payload.length} bytes exceeds ${MAX_WRAPPER_PAYLOAD}`);
  }
  return new ByteWriter(WRAPPER_HEADER_LENGTH + payload.length)
    .writeUInt16(WRAPPER_VERSION)
    .writeUInt16(src)
    .writeUInt16(dst)
    .writeUInt16(payload.length)
    .writeBytes(payload)
    .written(); // sized exactly: the writer's own array, no copy
}

/** Decodes one complete PDU (header + exactly `length` payload bytes). */
export function decodeWrapper(bytes: Uint8Array, maxPduLength = MAX_WRAPPER_PAYLOAD): WrapperPdu {
  const r = new ByteReader(bytes);
  const header = readHeader(r, maxPduLength);
  const at = r.offset;
  r.skip(header.length, "wrapper payload");
  const payload = bytes.slice(at, at + header.length); // a copy, not a view: views move small arrays off-heap
  if (r.isMore()) throw new DecodeError("malformed", `${r.remaining} byte(s) after the wrapper payload`, r.offset);
  return { version: header.version, srcWPort: header.srcWPort, dstWPort: header.dstWPort, payload };
}

function readHeader(r: ByteReader, maxPduLength: number) {
  const version = r.readUInt16("wrapper version");
  if (version !== WRAPPER_VERSION) {
    throw new DecodeError("bad-format", `wrapper version 0x${hex4(version)} (expected 0x0001)`, r.offset - 2);
  }
  const srcWPort = r.readUInt16("wrapper source wPort");
  const dstWPort = r.readUInt16("wrapper destination wPort");
  const length = r.readUInt16("wrapper length");
  if (length > maxPduLength) {
    throw new SizeLimitError(maxPduLength, length, `wrapper length ${length} exceeds the maximum ${maxPduLength}`);
  }
  return { version, srcWPort, dstWPort, length };
}

export interface WrapperDeframerOptions {
  /** Largest payload accepted; a bigger length field is treated as lost framing. Default 65535. */
  maxPduLength?: number;
}

/**
 * Splits a byte stream into wrapper PDUs by the header's length. On a bad header (wrong version, or length
 * above maxPduLength) the framing is lost: everything buffered is dropped and reported with the error, and
 * decoding restarts with the next pushed chunk (peers normally write one PDU per TCP send). A caller that wants
 * certainty should close the connection on such an error; the link reports it as "discarded" and stays up.
 * The buffer holds at most one PDU (8 + maxPduLength bytes) once next() has been drained.
 */
export class WrapperDeframer {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private readonly maxPduLength: number;

  constructor(opts: WrapperDeframerOptions = {}) {
    this.maxPduLength = Math.min(opts.maxPduLength ?? MAX_WRAPPER_PAYLOAD, MAX_WRAPPER_PAYLOAD);
  }

  /**
   * The chunk must not be modified afterwards (as with the HDLC deframer): it is kept, not copied, and a PDU that
   * fills it exactly is handed out as it is. The transports hand over a fresh array per read.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  next(): DeframerResult<WrapperPdu> | null {
    if (this.buffered < WRAPPER_HEADER_LENGTH) return null;
    const head = this.peek(WRAPPER_HEADER_LENGTH);
    let length: number;
    try {
      length = readHeader(new ByteReader(head, 0, WRAPPER_HEADER_LENGTH), this.maxPduLength).length;
    } catch (e) {
      const bytes = this.take(this.buffered);
      return { error: e as DecodeError, bytes };
    }
    const total = WRAPPER_HEADER_LENGTH + length;
    if (this.buffered < total) return null;
    const bytes = this.take(total);
    return { frame: decodeWrapper(bytes, this.maxPduLength), bytes };
  }

  /** An array starting with the first n buffered bytes, copying only those (a PDU dribbling in byte by byte must not cost O(n²)). */
  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first; // the caller reads only the first n bytes
    const out = new Uint8Array(n);
    let at = 0;
    for (const chunk of this.chunks) {
      const k = Math.min(chunk.length, n - at);
      out.set(chunk.subarray(0, k), at);
      at += k;
      if (at === n) break;
    }
    return out;
  }

  private take(n: number): Uint8Array {
    const all = this.chunks.length === 1 ? this.chunks[0]! : joinBytes(this.chunks);
    if (n === all.length) {
      // Exactly one PDU buffered (the usual case): handed out as it is.
      this.chunks = [];
      this.buffered -= n;
      return all;
    }
    const out = all.slice(0, n);
    this.chunks = n < all.length ? [all.subarray(n)] : [];
    this.buffered -= n;
    return out;
  }
}

function checkPort(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff)
    throw new LocalProtocolError(`wrapper ${what} ${v} out of range 0..65535`);
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, "0").toUpperCase();
}
