import { DecodeError } from "../errors.js";

/**
 * Big-endian cursor over a Uint8Array (A-XDR, BER, HDLC and wrapper headers are all big-endian).
 * Every read is bounds-checked and fails with a DecodeError("truncated") naming what was being read,
 * so no decoder in the stack does its own offset arithmetic.
 */
export class ByteReader {
  private pos: number;
  private dataView: DataView | undefined;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  /**
   * Only for 64-bit and float reads. Made on first use: touching `bytes.buffer` moves a small (on-heap) array
   * off the heap, which costs more than the decoding itself, so integer reads assemble bytes instead.
   */
  private get view(): DataView {
    this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    return this.dataView;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  isMore(): boolean {
    return this.pos < this.end;
  }

  private need(n: number, what: string): number {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(
        "truncated",
        `truncated ${what}: need ${n} byte(s) at offset ${this.pos}, have ${this.end - this.pos}`,
        this.pos,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  peekUInt8(what = "byte"): number {
    if (this.pos >= this.end) throw new DecodeError("truncated", `truncated ${what} at offset ${this.pos}`, this.pos);
    return this.bytes[this.pos]!;
  }

  readUInt8(what = "uint8"): number {
    return this.bytes[this.need(1, what)]!;
  }
  readInt8(what = "int8"): number {
    return (this.bytes[this.need(1, what)]! << 24) >> 24;
  }
  readUInt16(what = "uint16"): number {
    const at = this.need(2, what);
    const b = this.bytes;
    return (b[at]! << 8) | b[at + 1]!;
  }
  readInt16(what = "int16"): number {
    return (this.readUInt16(what) << 16) >> 16;
  }
  readUInt32(what = "uint32"): number {
    return this.readInt32(what) >>> 0;
  }
  readInt32(what = "int32"): number {
    const at = this.need(4, what);
    const b = this.bytes;
    return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  }
  readUInt64(what = "uint64"): bigint {
    return this.view.getBigUint64(this.need(8, what));
  }
  readInt64(what = "int64"): bigint {
    return this.view.getBigInt64(this.need(8, what));
  }
  readFloat32(what = "float32"): number {
    return this.view.getFloat32(this.need(4, what));
  }
  readFloat64(what = "float64"): number {
    return this.view.getFloat64(this.need(8, what));
  }

  /** A view (no copy) of the next n bytes. */
  readBytes(n: number, what = "bytes"): Uint8Array {
    const at = this.need(n, what);
    return this.bytes.subarray(at, at + n);
  }

  /** Everything left, as a view. */
  readRest(): Uint8Array {
    return this.readBytes(this.remaining, "rest");
  }

  skip(n: number, what = "bytes"): void {
    this.need(n, what);
  }

  /** A reader over the next n bytes only (for length-prefixed sub-structures); advances this reader past them. */
  sub(n: number, what = "sub-structure"): ByteReader {
    const at = this.need(n, what);
    return new ByteReader(this.bytes, at, at + n);
  }
}
