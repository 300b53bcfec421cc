// A-XDR length (62056-6-2, the BER definite form): one byte below 0x80, else 0x8N followed by N big-endian bytes.
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";

/** Largest length we read or write: the 0x84 form (four bytes). */
export const MAX_LENGTH = 0xffff_ffff;

export function readLength(r: ByteReader): number {
  const at = r.offset;
  const first = r.readUInt8("length");
  if (first < 0x80) return first;
  const size = first & 0x7f;
  if (size === 0)
    throw new DecodeError("malformed", `indefinite length (0x80) at offset ${at} is not allowed in A-XDR`, at);
  if (size > 4)
    throw new DecodeError("too-large", `length of ${size} bytes (0x${first.toString(16)}) at offset ${at}`, at);
  let n = 0;
  for (let i = 0; i < size; i++) n = n * 256 + r.readUInt8("length");
  return n;
}

export function writeLength(w: ByteWriter, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_LENGTH) throw new LocalProtocolError(`cannot encode length ${n}`);
  if (n < 0x80) {
    w.writeUInt8(n);
    return;
  }
  const size = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xff_ffff ? 3 : 4;
  w.writeUInt8(0x80 | size);
  for (let i = size - 1; i >= 0; i--) w.writeUInt8(Math.floor(n / 256 ** i) % 256);
}

/**
 * Reads a count of items that each take at least `minItemBytes` bytes, failing before anything is allocated when
 * the bytes left cannot hold them (an array claiming 2^31 elements in 10 bytes).
 */
export function readBoundedCount(r: ByteReader, what: string, minItemBytes: number): number {
  const at = r.offset;
  const n = readLength(r);
  if (n * minItemBytes > r.remaining) {
    throw new DecodeError("truncated", `${what} claims ${n} item(s) but only ${r.remaining} byte(s) remain`, at);
  }
  return n;
}
