// WORKAROUND for a bug in codec/writer.ts (owned elsewhere; reported): ByteWriter's scalar writes read `this.buf` /
// `this.view` before ensure() grows the buffer, so a write that triggers growth lands in the old buffer (a lost
// byte for writeUInt8, a RangeError for the wider ones). This subclass routes every scalar through writeBytes,
// which grows first. Delete it once ByteWriter is fixed; nothing else depends on it.
import { ByteWriter } from "../codec/writer.js";

export class GrowSafeWriter extends ByteWriter {
  private readonly scratch = new DataView(new ArrayBuffer(8));

  private put(n: number): this {
    return this.writeBytes(new Uint8Array(this.scratch.buffer, 0, n));
  }

  override writeUInt8(v: number): this {
    this.scratch.setUint8(0, v & 0xff);
    return this.put(1);
  }
  override writeInt8(v: number): this {
    this.scratch.setInt8(0, v);
    return this.put(1);
  }
  override writeUInt16(v: number): this {
    this.scratch.setUint16(0, v);
    return this.put(2);
  }
  override writeInt16(v: number): this {
    this.scratch.setInt16(0, v);
    return this.put(2);
  }
  override writeUInt32(v: number): this {
    this.scratch.setUint32(0, v);
    return this.put(4);
  }
  override writeInt32(v: number): this {
    this.scratch.setInt32(0, v);
    return this.put(4);
  }
  override writeUInt64(v: bigint): this {
    this.scratch.setBigUint64(0, v);
    return this.put(8);
  }
  override writeInt64(v: bigint): this {
    this.scratch.setBigInt64(0, v);
    return this.put(8);
  }
  override writeFloat32(v: number): this {
    this.scratch.setFloat32(0, v);
    return this.put(4);
  }
  override writeFloat64(v: number): this {
    this.scratch.setFloat64(0, v);
    return this.put(8);
  }
}
