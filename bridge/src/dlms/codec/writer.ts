/** Big-endian growable byte writer, the counterpart of ByteReader. */
export class ByteWriter {
  private buf: Uint8Array;
  private dataView: DataView | undefined;
  private len = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(initialCapacity);
  }

  /**
   * Only for 64-bit and float writes. Made on first use: touching `buf.buffer` moves a small (on-heap) array off
   * the heap, which costs more than the encoding itself, so integer writes store bytes directly.
   */
  private get view(): DataView {
    this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.dataView;
  }

  get length(): number {
    return this.len;
  }

  /** Reserves n bytes and returns their offset. Call it BEFORE touching buf/view: it may replace both. */
  private ensure(n: number): number {
    const at = this.len;
    if (at + n > this.buf.length) {
      let cap = Math.max(this.buf.length * 2, 16);
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.dataView = undefined;
    }
    this.len += n;
    return at;
  }

  writeUInt8(v: number): this {
    const at = this.ensure(1);
    this.buf[at] = v & 0xff;
    return this;
  }
  writeInt8(v: number): this {
    const at = this.ensure(1);
    this.buf[at] = v & 0xff;
    return this;
  }
  writeUInt16(v: number): this {
    const at = this.ensure(2);
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
    return this;
  }
  writeInt16(v: number): this {
    return this.writeUInt16(v);
  }
  writeUInt32(v: number): this {
    const at = this.ensure(4);
    const b = this.buf;
    b[at] = (v >>> 24) & 0xff;
    b[at + 1] = (v >>> 16) & 0xff;
    b[at + 2] = (v >>> 8) & 0xff;
    b[at + 3] = v & 0xff;
    return this;
  }
  writeInt32(v: number): this {
    return this.writeUInt32(v);
  }
  writeUInt64(v: bigint): this {
    const at = this.ensure(8);
    this.view.setBigUint64(at, v);
    return this;
  }
  writeInt64(v: bigint): this {
    const at = this.ensure(8);
    this.view.setBigInt64(at, v);
    return this;
  }
  writeFloat32(v: number): this {
    const at = this.ensure(4);
    this.view.setFloat32(at, v);
    return this;
  }
  writeFloat64(v: number): this {
    const at = this.ensure(8);
    this.view.setFloat64(at, v);
    return this;
  }
  writeBytes(b: Uint8Array | readonly number[]): this {
    const at = this.ensure(b.length);
    this.buf.set(b, at);
    return this;
  }

  /** Overwrite a byte already written (e.g. a length placeholder). */
  setUInt8At(offset: number, v: number): this {
    this.buf[offset] = v & 0xff;
    return this;
  }
  setUInt16At(offset: number, v: number): this {
    this.buf[offset] = (v >>> 8) & 0xff;
    this.buf[offset + 1] = v & 0xff;
    return this;
  }

  /** Forgets what was written (the array is kept for the next use). */
  reset(): this {
    this.len = 0;
    return this;
  }

  /** Bytes of array held (what a kept writer costs). */
  get capacity(): number {
    return this.buf.length;
  }

  /** A copy of what has been written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /**
   * The bytes written so far without a copy. Only for a writer about to be dropped (or to read before writing
   * more): a later write may change these bytes. A writer filled to its exact capacity hands out its own array;
   * otherwise a view (which, for a small array, makes V8 move it off the heap: size the writer exactly).
   */
  written(): Uint8Array {
    return this.len === this.buf.length ? this.buf : this.buf.subarray(0, this.len);
  }

  /**
   * The internal array, to read in place (e.g. a CRC) without a view: only bytes [0, length) are written, and the
   * next write may replace the array. Never keep it, never write to it.
   */
  get internalBytes(): Uint8Array {
    return this.buf;
  }
}
