import { describe, expect, it } from "vitest";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { fromHex } from "../../../src/dlms/codec/hex.js";
import { dataToJson } from "../../../src/dlms/cosem/display.js";

describe("dataToJson", () => {
  it.each<[string, DlmsData, unknown]>([
    ["null-data", { type: "null-data" }, null],
    ["boolean", { type: "boolean", value: true }, true],
    ["long-unsigned", { type: "long-unsigned", value: 12 }, 12],
    ["safe long64", { type: "long64", value: -42n }, -42],
    ["unsafe long64-unsigned as string", { type: "long64-unsigned", value: 2n ** 64n - 1n }, "18446744073709551615"],
    ["float NaN as string", { type: "float64", value: Number.NaN }, "NaN"],
    ["printable octet-string as text", { type: "octet-string", value: fromHex("47 52 58 30 31") }, "GRX01"],
    ["binary octet-string as hex", { type: "octet-string", value: fromHex("00 00 2A 00 00 FF") }, "00002A0000FF"],
    [
      "clock octet-string as ISO",
      { type: "octet-string", value: fromHex("07 EA 0B 1A 04 16 14 00 00 FF C4 00") },
      "2026-11-26T22:20:00+01:00",
    ],
    [
      "date-time as ISO",
      { type: "date-time", value: fromHex("07 EA 0B 1A 04 16 14 00 00 80 00 FF") },
      "2026-11-26T22:20:00",
    ],
    [
      "date-time with wildcards",
      { type: "date-time", value: fromHex("FF FF 01 0F FF 0D 00 FF FF 80 00 FF") },
      "****-01-15T13:00:**",
    ],
    ["date", { type: "date", value: fromHex("07 E8 02 1D FF") }, "2024-02-29"],
    ["time", { type: "time", value: fromHex("17 3B 3A 00") }, "23:59:58"],
    ["bit-string", { type: "bit-string", value: [true, false, true] }, "101"],
    ["visible-string", { type: "visible-string", value: "abc" }, "abc"],
    [
      "scaler_unit structure",
      {
        type: "structure",
        value: [
          { type: "integer", value: -2 },
          { type: "enum", value: 30 },
        ],
      },
      [-2, 30],
    ],
    [
      "compact-array",
      { type: "compact-array", description: { type: "unsigned" }, value: [{ type: "unsigned", value: 1 }] },
      [1],
    ],
  ])("%s", (_name, d, expected) => {
    expect(dataToJson(d)).toEqual(expected);
  });

  it("is always serialisable to JSON", () => {
    const d: DlmsData = {
      type: "array",
      value: [
        { type: "long64", value: 2n ** 63n - 1n },
        { type: "float32", value: Infinity },
      ],
    };
    expect(JSON.parse(JSON.stringify(dataToJson(d)))).toEqual(["9223372036854775807", "Infinity"]);
  });
});
