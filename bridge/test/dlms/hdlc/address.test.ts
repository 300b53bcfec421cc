import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/dlms/codec/hex.js";
import { ByteReader } from "../../../src/dlms/codec/reader.js";
import { DecodeError, LocalProtocolError } from "../../../src/dlms/errors.js";
import { decodeAddress, encodeClientAddress, encodeServerAddress } from "../../../src/dlms/hdlc/address.js";

const decode = (...bytes: number[]) => decodeAddress(new ByteReader(Uint8Array.from(bytes)));

describe("HDLC addresses", () => {
  it("encodes client SAPs as one byte with the extension bit", () => {
    expect(toHex(encodeClientAddress(16))).toBe("21");
    expect(toHex(encodeClientAddress(17))).toBe("23");
    expect(toHex(encodeClientAddress(1))).toBe("03");
  });

  it.each([
    [1, undefined, undefined, "03"],
    [1, 17, 2 as const, "02 23"], // as in the captured SNRM to server 1/17
    [1, 1234, undefined, "00 02 12 A5"], // 4-byte default with a physical address (Microstar style)
    [0x3fff, 0x3fff, 4 as const, "FE FE FE FF"],
    [0x7f, 0x7f, 2 as const, "FE FF"],
  ])("server logical %s physical %s size %s -> %s", (logical, physical, size, hex) => {
    expect(toHex(encodeServerAddress(logical, physical, size))).toBe(hex);
  });

  it("decodes the 1-, 2- and 4-byte forms back to upper/lower", () => {
    expect(decode(0x03)).toMatchObject({ upper: 1, size: 1 });
    expect(decode(0x03).lower).toBeUndefined();
    expect(decode(0x02, 0x23)).toMatchObject({ upper: 1, lower: 17, size: 2 });
    expect(decode(0x00, 0x02, 0x12, 0xa5)).toMatchObject({ upper: 1, lower: 1234, size: 4 });
    for (let physical = 0; physical <= 0x3fff; physical += 97) {
      const r = new ByteReader(encodeServerAddress(0x155, physical));
      expect(decodeAddress(r)).toMatchObject({ upper: 0x155, lower: physical, size: 4 });
    }
  });

  it("rejects 3-byte and over-long addresses, and truncated ones, with DecodeError", () => {
    expect(() => decode(0x00, 0x02, 0x03)).toThrow(expect.objectContaining({ code: "bad-address" }));
    expect(() => decode(0x00, 0x00, 0x00, 0x00, 0x01)).toThrow(expect.objectContaining({ code: "bad-address" }));
    expect(() => decode(0x00, 0x02)).toThrow(DecodeError);
  });

  it("refuses out-of-range values with a LocalProtocolError naming the field", () => {
    expect(() => encodeServerAddress(128)).toThrow(/logical address 128/);
    expect(() => encodeServerAddress(1, 128, 2)).toThrow(/physical address 128/);
    expect(() => encodeServerAddress(1, 0x4000)).toThrow(LocalProtocolError);
    expect(() => encodeServerAddress(1, 5, 1)).toThrow(LocalProtocolError);
    expect(() => encodeClientAddress(200)).toThrow(/client SAP 200/);
  });
});
