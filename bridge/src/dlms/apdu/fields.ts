// Range-checked writes: ByteWriter silently truncates, but a PDU field out of range is our (caller's) bug and
// must fail loudly rather than put a different number on the wire.
import type { ByteWriter } from "../codec/writer.js";
import { LocalProtocolError } from "../errors.js";

function check(v: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new LocalProtocolError(`${what} ${v} is outside ${min}..${max}`);
  return v;
}

export function writeU8(w: ByteWriter, v: number, what: string): void {
  w.writeUInt8(check(v, 0, 0xff, what));
}
export function writeI8(w: ByteWriter, v: number, what: string): void {
  w.writeInt8(check(v, -0x80, 0x7f, what));
}
export function writeU16(w: ByteWriter, v: number, what: string): void {
  w.writeUInt16(check(v, 0, 0xffff, what));
}
export function writeU32(w: ByteWriter, v: number, what: string): void {
  w.writeUInt32(check(v, 0, 0xffff_ffff, what));
}
