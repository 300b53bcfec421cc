import { describe, expect, it } from "vitest";
import { readLength, writeLength } from "../../../src/dlms/axdr/index.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { ByteReader } from "../../../src/dlms/codec/reader.js";
import { ByteWriter } from "../../../src/dlms/codec/writer.js";
import { DecodeError, LocalProtocolError } from "../../../src/dlms/errors.js";

describe("A-XDR length", () => {
  it.each([
    [0, "00"],
    [0x7f, "7F"],
    [0x80, "81 80"],
    [0xff, "81 FF"],
    [0x100, "82 01 00"],
    [0x1da, "82 01 DA"],
    [0xffff, "82 FF FF"],
    [0x10000, "83 01 00 00"],
    [0x1000000, "84 01 00 00 00"],
    [0xffffffff, "84 FF FF FF FF"],
  ])("%i <-> %s", (n, hex) => {
    const w = new ByteWriter();
    writeLength(w, n);
    expect(toHex(w.toBytes())).toBe(hex);
    const r = new ByteReader(fromHex(hex));
    expect(readLength(r)).toBe(n);
    expect(r.isMore()).toBe(false);
  });

  it("accepts non-minimal long forms some meters send", () => {
    expect(readLength(new ByteReader(fromHex("82 00 05")))).toBe(5);
  });

  it.each([
    ["80", "malformed"],
    ["85 00 00 00 00 01", "too-large"],
    ["82 01", "truncated"],
    ["", "truncated"],
  ])("rejects %s with %s", (hex, code) => {
    expect(() => readLength(new ByteReader(fromHex(hex)))).toThrow(expect.objectContaining({ code }));
    expect(() => readLength(new ByteReader(fromHex(hex)))).toThrow(DecodeError);
  });

  it.each([-1, 1.5, 2 ** 32, Number.NaN])("refuses to encode %d", (n) => {
    expect(() => writeLength(new ByteWriter(), n)).toThrow(LocalProtocolError);
  });
});
