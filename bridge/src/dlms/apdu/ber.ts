// The small BER subset ACSE needs (ISO 8825-1 as used by 62056-5-3): one-byte tags, definite lengths,
// OBJECT IDENTIFIER bodies, INTEGER and BIT STRING. AARQ/AARE are short, so lengths are capped at 0xFFFF.
import type { ByteReader } from "../codec/reader.js";
import { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";

/** Universal tags used inside ACSE elements. */
export const BerTag = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  objectIdentifier: 0x06,
  graphicString: 0x19,
} as const;

const MAX_BER_LENGTH = 0xffff;

export interface Tlv {
  tag: number;
  /** Offset of the tag byte in the original input, for error messages. */
  offset: number;
  value: ByteReader;
}

export function readBerLength(r: ByteReader): number {
  const at = r.offset;
  const first = r.readUInt8("BER length");
  if (first < 0x80) return first;
  const size = first & 0x7f;
  if (size === 0) throw new DecodeError("malformed", `indefinite BER length at offset ${at} is not allowed`, at);
  if (size > 2) throw new DecodeError("too-large", `BER length of ${size} bytes at offset ${at}`, at);
  let n = 0;
  for (let i = 0; i < size; i++) n = n * 256 + r.readUInt8("BER length");
  return n;
}

export function writeBerLength(w: ByteWriter, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_BER_LENGTH)
    throw new LocalProtocolError(`cannot encode BER length ${n}`);
  if (n < 0x80) w.writeUInt8(n);
  else if (n <= 0xff) w.writeUInt8(0x81).writeUInt8(n);
  else w.writeUInt8(0x82).writeUInt16(n);
}

/** Longest tag we accept: the first byte and up to three continuation bytes (tag numbers up to 2^21). */
const MAX_TAG_BYTES = 4;

/**
 * A tag as one number: the byte itself, or for the multi-byte form (low five bits set) the bytes concatenated.
 * ACSE only uses one-byte tags; longer ones are read so that an unknown element can be skipped.
 */
function readTag(r: ByteReader, offset: number): number {
  let tag = r.readUInt8("BER tag");
  if ((tag & 0x1f) !== 0x1f) return tag;
  for (let i = 1; i < MAX_TAG_BYTES; i++) {
    const next = r.readUInt8("BER tag");
    tag = tag * 256 + next;
    if (!(next & 0x80)) return tag;
  }
  throw new DecodeError("too-large", `BER tag longer than ${MAX_TAG_BYTES} bytes at offset ${offset}`, offset);
}

/** Reads one tag-length-value; the value is a sub-reader bounded by the length (bounds-checked against the input). */
export function readTlv(r: ByteReader): Tlv {
  const offset = r.offset;
  const tag = readTag(r, offset);
  const length = readBerLength(r);
  return { tag, offset, value: r.sub(length, `BER element 0x${hex2(tag)}`) };
}

/** Reads a TLV and checks its tag. */
export function expectTlv(r: ByteReader, tag: number, what: string): ByteReader {
  const tlv = readTlv(r);
  if (tlv.tag !== tag) {
    throw new DecodeError(
      "malformed",
      `${what}: expected tag 0x${hex2(tag)}, got 0x${hex2(tlv.tag)} at offset ${tlv.offset}`,
      tlv.offset,
    );
  }
  return tlv.value;
}

export function writeTlv(w: ByteWriter, tag: number, value: Uint8Array): void {
  w.writeUInt8(tag);
  writeBerLength(w, value.length);
  w.writeBytes(value);
}

/** Builds the value of a constructed element from its children. */
export function constructed(build: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  build(w);
  return w.toBytes();
}

/** Non-negative INTEGER body (ACSE only carries small enumerations). */
export function readBerUnsigned(r: ByteReader, what: string): number {
  const at = r.offset;
  if (r.remaining < 1 || r.remaining > 4)
    throw new DecodeError("malformed", `${what}: INTEGER of ${r.remaining} byte(s) at offset ${at}`, at);
  const first = r.peekUInt8(what);
  if (first & 0x80) throw new DecodeError("malformed", `${what}: negative INTEGER at offset ${at}`, at);
  let n = 0;
  while (r.isMore()) n = n * 256 + r.readUInt8(what);
  return n;
}

export function berUnsigned(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fff_ffff) throw new LocalProtocolError(`cannot encode BER INTEGER ${n}`);
  const bytes: number[] = [];
  let v = n;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Uint8Array.from(bytes);
}

/** Dotted form of an OBJECT IDENTIFIER body, for naming unknown OIDs in errors. */
export function oidToString(body: Uint8Array): string {
  const arcs: number[] = [];
  let v = 0;
  for (const b of body) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join(".");
}

/** OBJECT IDENTIFIER body from its dotted form ("2.16.756.5.8.1.1"). */
export function oidFromString(dotted: string): Uint8Array {
  const arcs = dotted.split(".").map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isInteger(a) || a < 0))
    throw new LocalProtocolError(`bad OID ${dotted}`);
  const out: number[] = [];
  const push = (arc: number) => {
    const septets = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) septets.unshift((v & 0x7f) | 0x80);
    out.push(...septets);
  };
  push(arcs[0]! * 40 + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return Uint8Array.from(out);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, "0").toUpperCase();
}
