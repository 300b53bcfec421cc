// Growth-safe writes. ByteWriter's numeric writers (writeUInt8, writeUInt16, ...) read their target buffer before
// ensure() reallocates it, so a write that makes the buffer grow is lost (writeUInt8 silently, the others with a
// RangeError). writeBytes reads the buffer after ensure(), so everything A-XDR writes goes through it.
import type { ByteWriter } from "../codec/writer.js";

export function putUInt8(w: ByteWriter, v: number): void {
  w.writeBytes([v & 0xff]);
}

/** Writes `size` bytes laid out by `fill` (big-endian DataView setters at offset 0). */
export function putScalar(w: ByteWriter, size: number, fill: (view: DataView) => void): void {
  const bytes = new Uint8Array(size);
  fill(new DataView(bytes.buffer));
  w.writeBytes(bytes);
}
