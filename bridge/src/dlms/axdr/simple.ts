// Bodies of the non-container Data types (everything but array, structure and compact-array), without their tag.
// compact-array stores its elements exactly like this, so normal and compact decoding share these.
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { LocalProtocolError } from "../errors.js";
import { readBoundedCount, readLength, writeLength } from "./length.js";
import type { DataTypeName, DlmsData } from "./types.js";

export type SimpleTypeName = Exclude<DataTypeName, "array" | "structure" | "compact-array">;
export type SimpleData = Extract<DlmsData, { type: SimpleTypeName }>;

/** Wire size of the fixed-size types; variable-size types (strings, bit-string) are absent. */
export const FIXED_SIZE: Partial<Record<SimpleTypeName, number>> = {
  "null-data": 0,
  "dont-care": 0,
  boolean: 1,
  integer: 1,
  unsigned: 1,
  enum: 1,
  bcd: 1,
  long: 2,
  "long-unsigned": 2,
  "double-long": 4,
  "double-long-unsigned": 4,
  float32: 4,
  long64: 8,
  "long64-unsigned": 8,
  float64: 8,
  "date-time": 12,
  date: 5,
  time: 4,
};

/** Smallest possible encoding: variable-size types need at least their length byte. */
export function minSimpleSize(type: SimpleTypeName): number {
  return FIXED_SIZE[type] ?? 1;
}

// Visible-string is ISO 646; we map bytes 1:1 to code points (latin1) so that no byte is ever lost.
function latin1Decode(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

const utf8Decoder = new TextDecoder("utf-8");
const utf8Encoder = new TextEncoder();

export function readSimple(r: ByteReader, type: SimpleTypeName): SimpleData {
  switch (type) {
    case "null-data":
    case "dont-care":
      return { type };
    case "boolean":
      return { type, value: r.readUInt8("boolean") !== 0 };
    case "integer":
      return { type, value: r.readInt8("integer") };
    case "unsigned":
      return { type, value: r.readUInt8("unsigned") };
    case "enum":
      return { type, value: r.readUInt8("enum") };
    case "bcd":
      return { type, value: r.readUInt8("bcd") };
    case "long":
      return { type, value: r.readInt16("long") };
    case "long-unsigned":
      return { type, value: r.readUInt16("long-unsigned") };
    case "double-long":
      return { type, value: r.readInt32("double-long") };
    case "double-long-unsigned":
      return { type, value: r.readUInt32("double-long-unsigned") };
    case "long64":
      return { type, value: r.readInt64("long64") };
    case "long64-unsigned":
      return { type, value: r.readUInt64("long64-unsigned") };
    case "float32":
      return { type, value: r.readFloat32("float32") };
    case "float64":
      return { type, value: r.readFloat64("float64") };
    case "date-time":
    case "date":
    case "time":
      return { type, value: r.readBytes(FIXED_SIZE[type]!, type).slice() };
    case "octet-string":
      return { type, value: r.readBytes(readLength(r), type).slice() };
    case "visible-string":
      return { type, value: latin1Decode(r.readBytes(readLength(r), type)) };
    case "utf8-string":
      return { type, value: utf8Decoder.decode(r.readBytes(readLength(r), type)) };
    case "bit-string":
      return { type, value: readBits(r) };
  }
}

function readBits(r: ByteReader): boolean[] {
  // The length counts bits; check the bytes exist before building the array.
  const bits = readBoundedCount(r, "bit-string", 1 / 8);
  const bytes = r.readBytes(Math.ceil(bits / 8), "bit-string");
  const out = new Array<boolean>(bits);
  for (let i = 0; i < bits; i++) out[i] = (bytes[i >> 3]! & (0x80 >> (i & 7))) !== 0;
  return out;
}

function fail(type: string, value: unknown, expected: string): never {
  const shown =
    typeof value === "bigint" ? `${value}n` : typeof value === "string" ? JSON.stringify(value) : String(value);
  throw new LocalProtocolError(`cannot encode ${type} ${shown}: expected ${expected}`);
}

function checkInt(type: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max)
    fail(type, v, `an integer in ${min}..${max}`);
  return v;
}

function checkBoolean(v: unknown): boolean {
  if (typeof v !== "boolean") fail("boolean", v, "true or false");
  return v;
}

function checkNumber(type: string, v: unknown): number {
  if (typeof v !== "number") fail(type, v, "a number");
  return v;
}

function checkString(type: string, v: unknown): string {
  if (typeof v !== "string") fail(type, v, "a string");
  return v;
}

function checkBigInt(type: string, v: unknown, min: bigint, max: bigint): bigint {
  if (typeof v !== "bigint" || v < min || v > max) fail(type, v, `a bigint in ${min}..${max}`);
  return v;
}

function checkBytes(type: string, v: unknown, size?: number): Uint8Array {
  if (!(v instanceof Uint8Array) || (size !== undefined && v.length !== size)) {
    fail(type, v, size === undefined ? "a Uint8Array" : `a Uint8Array of ${size} bytes`);
  }
  return v;
}

export function writeSimple(w: ByteWriter, d: SimpleData): void {
  switch (d.type) {
    case "null-data":
    case "dont-care":
      return;
    case "boolean":
      w.writeUInt8(checkBoolean(d.value) ? 1 : 0);
      return;
    case "integer":
      w.writeUInt8(checkInt(d.type, d.value, -0x80, 0x7f));
      return;
    case "unsigned":
    case "enum":
    case "bcd":
      w.writeUInt8(checkInt(d.type, d.value, 0, 0xff));
      return;
    case "long":
      putInt(w, 2, checkInt(d.type, d.value, -0x8000, 0x7fff));
      return;
    case "long-unsigned":
      putInt(w, 2, checkInt(d.type, d.value, 0, 0xffff));
      return;
    case "double-long":
      putInt(w, 4, checkInt(d.type, d.value, -0x8000_0000, 0x7fff_ffff));
      return;
    case "double-long-unsigned":
      putInt(w, 4, checkInt(d.type, d.value, 0, 0xffff_ffff));
      return;
    case "long64":
      putBigInt(w, checkBigInt(d.type, d.value, -(2n ** 63n), 2n ** 63n - 1n));
      return;
    case "long64-unsigned":
      putBigInt(w, checkBigInt(d.type, d.value, 0n, 2n ** 64n - 1n));
      return;
    case "float32":
    case "float64": {
      const x = checkNumber(d.type, d.value);
      if (d.type === "float32") w.writeFloat32(x);
      else w.writeFloat64(x);
      return;
    }
    case "date-time":
    case "date":
    case "time":
      w.writeBytes(checkBytes(d.type, d.value, FIXED_SIZE[d.type]));
      return;
    case "octet-string": {
      const b = checkBytes(d.type, d.value);
      writeLength(w, b.length);
      w.writeBytes(b);
      return;
    }
    case "visible-string":
      writeVisible(w, d.value);
      return;
    case "utf8-string": {
      const b = utf8Encoder.encode(checkString(d.type, d.value));
      writeLength(w, b.length);
      w.writeBytes(b);
      return;
    }
    case "bit-string":
      writeBits(w, d.value);
      return;
  }
}

/** Two's complement big-endian integer of 2 or 4 bytes (the range was checked by the caller). */
function putInt(w: ByteWriter, size: 2 | 4, x: number): void {
  if (size === 2) w.writeUInt16(x & 0xffff);
  else w.writeUInt32(x >>> 0);
}

/** 8-byte big-endian integer; BigUint64 of the value mod 2^64 is also its two's complement form. */
function putBigInt(w: ByteWriter, x: bigint): void {
  w.writeUInt64(BigInt.asUintN(64, x));
}

function writeVisible(w: ByteWriter, value: unknown): void {
  const s = checkString("visible-string", value);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff)
      fail("visible-string", s, `only characters U+0000..U+00FF (found U+${c.toString(16).padStart(4, "0")})`);
    b[i] = c;
  }
  writeLength(w, b.length);
  w.writeBytes(b);
}

function writeBits(w: ByteWriter, bits: unknown): void {
  if (!Array.isArray(bits) || bits.some((b) => typeof b !== "boolean"))
    fail("bit-string", bits, "an array of booleans");
  const bytes = new Uint8Array(Math.ceil(bits.length / 8));
  bits.forEach((bit, i) => {
    if (bit) bytes[i >> 3]! |= 0x80 >> (i & 7);
  });
  writeLength(w, bits.length);
  w.writeBytes(bytes);
}
