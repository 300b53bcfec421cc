import { describe, expect, it } from "vitest";
import { decodeData } from "../../../src/dlms/axdr/index.js";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { fromHex } from "../../../src/dlms/codec/hex.js";
import {
  applyScaler,
  decodeScalerUnit,
  encodeScalerUnit,
  numericValue,
  scaledValue,
} from "../../../src/dlms/cosem/scaler.js";
import { unitInfo, unitSymbol } from "../../../src/dlms/cosem/units.js";
import { DecodeError, LocalProtocolError } from "../../../src/dlms/errors.js";

describe("applyScaler is an exact decimal shift", () => {
  it.each<[number | bigint, number, number]>([
    [12345, -2, 123.45],
    [1, -3, 0.001],
    [5, 3, 5000],
    [-12345, -2, -123.45],
    [-1, -1, -0.1],
    [0, -5, 0],
    [23012, -2, 230.12],
    [4999, -1, 499.9],
    [7, 0, 7],
    [3, -1, 0.3],
    [2n ** 63n - 1n, -2, Number("92233720368547758.07")], // nearest double to the exact decimal
    [-(2n ** 63n), 0, Number("-9223372036854775808")],
    [18446744073709551615n, -3, Number("18446744073709551.615")],
    [1.5, 2, 150],
    [1e21, -1, 1e20],
    [1e-7, 2, 0.00001],
  ])("%s × 10^%i = %s", (value, scaler, expected) => {
    expect(applyScaler(value, scaler)).toBe(expected);
  });

  it("avoids the float drift of multiplying by a power of ten", () => {
    expect(3 * 10 ** -1).not.toBe(0.3); // the bug this function exists for
    expect(applyScaler(3, -1)).toBe(0.3);
    // Dividing by an exact power of ten rounds once, so it is the nearest double to the decimal result.
    for (let v = -5000; v < 5000; v += 7) {
      for (const k of [1, 2, 3, 6]) expect(applyScaler(v, -k)).toBe(v / 10 ** k);
    }
  });

  it("passes NaN and infinities through and rejects a non-integer scaler", () => {
    expect(applyScaler(Number.POSITIVE_INFINITY, -2)).toBe(Number.POSITIVE_INFINITY);
    expect(applyScaler(Number.NaN, -2)).toBeNaN();
    expect(() => applyScaler(1, 0.5)).toThrow(LocalProtocolError);
  });
});

describe("scaler_unit", () => {
  it("decodes the captured {-2, Wh}", () => {
    expect(decodeScalerUnit(decodeData(fromHex("02 02 0F FE 16 1E")))).toEqual({
      scaler: -2,
      unit: 30,
      unitSymbol: "Wh",
    });
  });

  it("round-trips through encodeScalerUnit", () => {
    expect(decodeScalerUnit(encodeScalerUnit(3, 35))).toEqual({ scaler: 3, unit: 35, unitSymbol: "V" });
  });

  it.each<[string, DlmsData]>([
    ["not a structure", { type: "array", value: [] }],
    ["one field", { type: "structure", value: [{ type: "integer", value: 0 }] }],
    [
      "string scaler",
      {
        type: "structure",
        value: [
          { type: "visible-string", value: "x" },
          { type: "enum", value: 30 },
        ],
      },
    ],
    [
      "string unit",
      {
        type: "structure",
        value: [
          { type: "integer", value: 0 },
          { type: "octet-string", value: new Uint8Array() },
        ],
      },
    ],
    [
      "scaler out of int8",
      {
        type: "structure",
        value: [
          { type: "long", value: 300 },
          { type: "enum", value: 30 },
        ],
      },
    ],
  ])("rejects %s with a DecodeError", (_name, d) => {
    expect(() => decodeScalerUnit(d)).toThrow(DecodeError);
  });
});

describe("numericValue / scaledValue", () => {
  it.each<[DlmsData, number | bigint | undefined]>([
    [{ type: "long-unsigned", value: 12 }, 12],
    [{ type: "double-long", value: -5 }, -5],
    [{ type: "long64", value: -(2n ** 40n) }, -(2n ** 40n)],
    [{ type: "float32", value: 1.5 }, 1.5],
    [{ type: "enum", value: 3 }, 3],
    [{ type: "bcd", value: 0x42 }, 42],
    [{ type: "bcd", value: 0x4f }, undefined],
    [{ type: "octet-string", value: new Uint8Array(1) }, undefined],
    [{ type: "null-data" }, undefined],
    [{ type: "boolean", value: true }, undefined],
  ])("%s -> %s", (d, expected) => {
    expect(numericValue(d)).toBe(expected);
  });

  it("scales a register value with its scaler_unit", () => {
    expect(scaledValue({ type: "double-long-unsigned", value: 23012 }, { scaler: -2 })).toBe(230.12);
    expect(scaledValue({ type: "long-unsigned", value: 12 })).toBe(12);
    expect(scaledValue({ type: "visible-string", value: "12" }, { scaler: -2 })).toBeUndefined();
  });
});

describe("units", () => {
  it.each([
    [35, "V"],
    [33, "A"],
    [44, "Hz"],
    [27, "W"],
    [30, "Wh"],
    [29, "var"],
    [28, "VA"],
    [32, "varh"],
    [9, "°C"],
    [56, "%"],
    [255, ""],
    [254, ""],
    [200, ""],
  ])("%i -> %j", (code, symbol) => {
    expect(unitSymbol(code)).toBe(symbol);
  });

  it("names every code of the table and none of the reserved ones", () => {
    for (let code = 1; code <= 57; code++) expect(unitInfo(code)?.name, `unit ${code}`).toBeTruthy();
    expect(unitInfo(0)).toBeUndefined();
    expect(unitInfo(58)).toBeUndefined();
    expect(unitInfo(255)?.name).toMatch(/count/);
  });
});
