import { describe, expect, it } from "vitest";
import { decodeData, encodeData } from "../../../src/dlms/axdr/index.js";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import {
  type CaptureObject,
  decodeBuffer,
  decodeCaptureObjects,
  encodeBuffer,
  encodeCaptureObjects,
  encodeEntryDescriptor,
  encodeRangeDescriptor,
} from "../../../src/dlms/cosem/profile-generic.js";
import { DecodeError, LocalProtocolError } from "../../../src/dlms/errors.js";

const clock: CaptureObject = { classId: 8, obis: "0.0.1.0.0.255", attributeId: 2, dataIndex: 0 };
const energy: CaptureObject = { classId: 3, obis: "1.0.1.8.0.255", attributeId: 2, dataIndex: 0 };

// capture_objects = { {8, 0.0.1.0.0.255, 2, 0}, {3, 1.0.1.8.0.255, 2, 0} }, encoded by hand.
const CAPTURE_OBJECTS_HEX =
  "01 02" +
  " 02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00" +
  " 02 04 12 00 03 09 06 01 00 01 08 00 FF 0F 02 12 00 00";

describe("Profile Generic capture_objects", () => {
  it("decodes the hand-encoded list", () => {
    expect(decodeCaptureObjects(decodeData(fromHex(CAPTURE_OBJECTS_HEX)))).toEqual([clock, energy]);
  });

  it("encodes byte for byte", () => {
    expect(toHex(encodeData(encodeCaptureObjects([clock, energy])))).toBe(toHex(fromHex(CAPTURE_OBJECTS_HEX)));
  });

  it.each<[string, string]>([
    ["not an array", "02 00"],
    ["an entry with 3 fields", "01 01 02 03 12 00 08 09 06 00 00 01 00 00 FF 0F 02"],
    ["a 5-byte logical name", "01 01 02 04 12 00 08 09 05 00 00 01 00 00 0F 02 12 00 00"],
    ["a string class id", "01 01 02 04 0A 01 38 09 06 00 00 01 00 00 FF 0F 02 12 00 00"],
  ])("rejects %s with a DecodeError naming the path", (_name, hex) => {
    expect(() => decodeCaptureObjects(decodeData(fromHex(hex)))).toThrow(DecodeError);
    expect(() => decodeCaptureObjects(decodeData(fromHex(hex)))).toThrow(/capture_objects/);
  });
});

describe("Profile Generic buffer", () => {
  const t1: DlmsData = { type: "octet-string", value: fromHex("07 EA 0B 1A 04 16 00 00 00 00 00 00") };
  const rows: DlmsData[][] = [
    [t1, { type: "double-long-unsigned", value: 1000 }],
    [{ type: "null-data" }, { type: "double-long-unsigned", value: 1015 }],
  ];

  it("pairs each value with its capture object", () => {
    const decoded = decodeBuffer(decodeData(encodeData(encodeBuffer(rows))), [clock, energy]);
    expect(decoded).toHaveLength(2);
    expect(decoded[0]).toEqual([
      { capture: clock, value: t1 },
      { capture: energy, value: { type: "double-long-unsigned", value: 1000 } },
    ]);
    expect(decoded[1]![0]!.value).toEqual({ type: "null-data" });
  });

  it("accepts an empty buffer", () => {
    expect(decodeBuffer({ type: "array", value: [] }, [clock])).toEqual([]);
  });

  it("rejects rows whose width differs from the capture objects", () => {
    expect(() => decodeBuffer(encodeBuffer(rows), [clock])).toThrow(DecodeError);
    expect(() => decodeBuffer(encodeBuffer([[t1]]), [clock, energy])).toThrow(/buffer\[0\]/);
    expect(() => decodeBuffer({ type: "array", value: [t1] }, [clock])).toThrow(DecodeError);
  });
});

describe("selective access parameters", () => {
  it("encodes an entry_descriptor", () => {
    expect(toHex(encodeData(encodeEntryDescriptor(1, 10)))).toBe(
      "02 04 06 00 00 00 01 06 00 00 00 0A 12 00 01 12 00 00",
    );
    expect(() => encodeEntryDescriptor(-1)).toThrow(LocalProtocolError);
    expect(() => encodeEntryDescriptor(1, 0, 70000)).toThrow(LocalProtocolError);
  });

  it("encodes a range_descriptor on the clock column", () => {
    const from: DlmsData = { type: "octet-string", value: new Uint8Array(12) };
    const to: DlmsData = { type: "octet-string", value: new Uint8Array(12).fill(1) };
    const expected = [
      "02 04",
      "02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00",
      `09 0C ${"00 ".repeat(12)}`,
      `09 0C ${"01 ".repeat(12)}`,
      "01 00",
    ].join(" ");
    expect(toHex(encodeData(encodeRangeDescriptor(clock, from, to)))).toBe(toHex(fromHex(expected)));
  });
});
