/** Big-endian growable byte writer, the counterpart of ByteReader. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initialCapacity = 64) {
    this.buf = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buf.buffer);
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
      this.view = new DataView(next.buffer);
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
    this.view.setInt8(at, v);
    return this;
  }
  writeUInt16(v: number): this {
    const at = this.ensure(2);
    this.view.setUint16(at, v);
    return this;
  }
  writeInt16(v: number): this {
    const at = this.ensure(2);
    this.view.setInt16(at, v);
    return this;
  }
  writeUInt32(v: number): this {
    const at = this.ensure(4);
    this.view.setUint32(at, v);
    return this;
  }
  writeInt32(v: number): this {
    const at = this.ensure(4);
    this.view.setInt32(at, v);
    return this;
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
    this.view.setUint16(offset, v);
    return this;
  }

  /** A copy of what has been written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /**
   * The bytes written so far without a copy. Only for a writer about to be dropped (or to read, e.g. a CRC,
   * before writing more): a later write may change these bytes.
   */
  written(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}
