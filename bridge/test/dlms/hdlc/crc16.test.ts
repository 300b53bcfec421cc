import { describe, expect, it } from "vitest";
import { crc16x25 } from "../../../src/dlms/codec/crc16.js";
import { fromHex } from "../../../src/dlms/codec/hex.js";

describe("crc16x25", () => {
  it("gives the CRC-16/X.25 check value for '123456789'", () => {
    expect(crc16x25(new TextEncoder().encode("123456789"))).toBe(0x906e);
  });

  it("reproduces the captured SNRM's FCS (0F 01, low byte first)", () => {
    const snrm = fromHex("7E A0 07 03 21 93 0F 01 7E");
    expect(crc16x25(snrm, 1, 6)).toBe(0x010f);
  });

  it("honours start/end (HCS of the captured GET whose FCS is A1 7E)", () => {
    const get = fromHex("7E A0 19 03 21 76 4F DC E6 E6 00 C0 01 C2 00 01 00 00 2A 00 00 FF 02 00 A1 7E 7E");
    expect(crc16x25(get, 1, 6)).toBe(0xdc4f);
    expect(crc16x25(get, 1, get.length - 3)).toBe(0x7ea1);
  });

  it("is 0xFFFF-initialised: the empty input gives 0x0000", () => {
    expect(crc16x25(new Uint8Array(0))).toBe(0x0000);
  });
});
