import { describe, expect, it } from "vitest";
import { ByteReader } from "../../../src/dlms/codec/reader.js";
import { ByteWriter } from "../../../src/dlms/codec/writer.js";
import { DecodeError } from "../../../src/dlms/errors.js";

describe("ByteWriter / ByteReader", () => {
  it("keeps every byte when a write makes the buffer grow (any width, any start capacity)", () => {
    for (const capacity of [0, 1, 2, 3]) {
      const w = new ByteWriter(capacity);
      w.writeUInt8(1).writeUInt8(2).writeUInt8(3).writeUInt16(0x0405).writeInt32(-2).writeUInt64(0x0102030405060708n);
      w.writeFloat64(1.5).writeBytes([9, 10]);
      const r = new ByteReader(w.toBytes());
      expect([r.readUInt8(), r.readUInt8(), r.readUInt8(), r.readUInt16(), r.readInt32()]).toEqual([
        1, 2, 3, 0x0405, -2,
      ]);
      expect(r.readUInt64()).toBe(0x0102030405060708n);
      expect(r.readFloat64()).toBe(1.5);
      expect([...r.readRest()]).toEqual([9, 10]);
    }
  });

  it("writes big-endian", () => {
    expect([...new ByteWriter().writeUInt16(0xa007).writeInt16(-2).toBytes()]).toEqual([0xa0, 0x07, 0xff, 0xfe]);
  });

  it("fails a read past the end with a typed, named error and does not move", () => {
    const r = new ByteReader(Uint8Array.of(1, 2, 3));
    r.readUInt8();
    expect(() => r.readUInt32("frame length")).toThrowError(DecodeError);
    expect(() => r.readUInt32("frame length")).toThrowError(/truncated frame length/);
    expect(r.offset).toBe(1);
    const sub = r.sub(1);
    expect(sub.readUInt8()).toBe(2);
    expect(() => sub.readUInt8()).toThrowError(DecodeError);
    expect(r.readUInt8()).toBe(3);
  });
});
