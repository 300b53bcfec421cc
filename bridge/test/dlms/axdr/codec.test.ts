import { describe, expect, it } from "vitest";
import {
  decodeData,
  decodeDataLenient,
  encodeData,
  MAX_DEPTH,
  readData,
  writeData,
} from "../../../src/dlms/axdr/index.js";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { ByteReader } from "../../../src/dlms/codec/reader.js";
import { ByteWriter } from "../../../src/dlms/codec/writer.js";
import { DecodeError, LocalProtocolError } from "../../../src/dlms/errors.js";

const bytes = (...b: number[]) => Uint8Array.from(b);

// Hand-computed encodings, one or more per Data type (62056-6-2 tags, big-endian bodies).
const cases: [string, DlmsData, string][] = [
  ["null-data", { type: "null-data" }, "00"],
  ["dont-care", { type: "dont-care" }, "FF"],
  ["boolean true", { type: "boolean", value: true }, "03 01"],
  ["boolean false", { type: "boolean", value: false }, "03 00"],
  [
    "bit-string of 10 bits",
    { type: "bit-string", value: [true, false, true, false, false, false, false, true, true, true] },
    "04 0A A1 C0",
  ],
  ["empty bit-string", { type: "bit-string", value: [] }, "04 00"],
  ["double-long -2", { type: "double-long", value: -2 }, "05 FF FF FF FE"],
  ["double-long-unsigned max", { type: "double-long-unsigned", value: 0xffffffff }, "06 FF FF FF FF"],
  ["octet-string logical name", { type: "octet-string", value: bytes(0, 0, 42, 0, 0, 255) }, "09 06 00 00 2A 00 00 FF"],
  ["visible-string", { type: "visible-string", value: "GRX" }, "0A 03 47 52 58"],
  ["visible-string latin1", { type: "visible-string", value: "\u00e9" }, "0A 01 E9"],
  ["utf8-string", { type: "utf8-string", value: "\u00e9\u20ac" }, "0C 05 C3 A9 E2 82 AC"],
  ["bcd", { type: "bcd", value: 0x42 }, "0D 42"],
  ["integer -2", { type: "integer", value: -2 }, "0F FE"],
  ["long -300", { type: "long", value: -300 }, "10 FE D4"],
  ["unsigned 200", { type: "unsigned", value: 200 }, "11 C8"],
  ["long-unsigned 12", { type: "long-unsigned", value: 12 }, "12 00 0C"],
  ["long64 min", { type: "long64", value: -(2n ** 63n) }, "14 80 00 00 00 00 00 00 00"],
  ["long64-unsigned max", { type: "long64-unsigned", value: 2n ** 64n - 1n }, "15 FF FF FF FF FF FF FF FF"],
  ["enum 30 (Wh)", { type: "enum", value: 30 }, "16 1E"],
  ["float32 1.5", { type: "float32", value: 1.5 }, "17 3F C0 00 00"],
  ["float64 -0.1", { type: "float64", value: -0.1 }, "18 BF B9 99 99 99 99 99 9A"],
  [
    "date-time",
    { type: "date-time", value: fromHex("07 EA 0B 1A 04 16 14 00 00 00 00 00") },
    "19 07 EA 0B 1A 04 16 14 00 00 00 00 00",
  ],
  ["date", { type: "date", value: fromHex("07 EA 0B 1A 04") }, "1A 07 EA 0B 1A 04"],
  ["time", { type: "time", value: fromHex("16 14 00 FF") }, "1B 16 14 00 FF"],
  [
    "scaler_unit {-2, Wh}",
    {
      type: "structure",
      value: [
        { type: "integer", value: -2 },
        { type: "enum", value: 30 },
      ],
    },
    "02 02 0F FE 16 1E",
  ],
  ["empty array", { type: "array", value: [] }, "01 00"],
  [
    "array of structures",
    {
      type: "array",
      value: [
        { type: "structure", value: [{ type: "unsigned", value: 1 }] },
        { type: "structure", value: [{ type: "null-data" }] },
      ],
    },
    "01 02 02 01 11 01 02 01 00",
  ],
  [
    "compact-array of long-unsigned",
    {
      type: "compact-array",
      description: { type: "long-unsigned" },
      value: [
        { type: "long-unsigned", value: 1 },
        { type: "long-unsigned", value: 0x203 },
      ],
    },
    "13 12 04 00 01 02 03",
  ],
  [
    "compact-array of structure{unsigned, octet-string}",
    {
      type: "compact-array",
      description: { type: "structure", elements: [{ type: "unsigned" }, { type: "octet-string" }] },
      value: [
        {
          type: "structure",
          value: [
            { type: "unsigned", value: 7 },
            { type: "octet-string", value: bytes(0xaa) },
          ],
        },
        {
          type: "structure",
          value: [
            { type: "unsigned", value: 8 },
            { type: "octet-string", value: bytes() },
          ],
        },
      ],
    },
    "13 02 02 11 09 05 07 01 AA 08 00",
  ],
  [
    "compact-array of array[2] of integer",
    {
      type: "compact-array",
      description: { type: "array", count: 2, element: { type: "integer" } },
      value: [
        {
          type: "array",
          value: [
            { type: "integer", value: -1 },
            { type: "integer", value: 1 },
          ],
        },
      ],
    },
    "13 01 00 02 0F 02 FF 01",
  ],
];

describe("A-XDR Data: byte-exact round trips", () => {
  it.each(cases)("%s", (_name, value, hex) => {
    expect(toHex(encodeData(value))).toBe(toHex(fromHex(hex)));
    expect(decodeData(fromHex(hex))).toEqual(value);
  });

  it("encodes correctly into a caller's writer that has to grow on every write", () => {
    const w = new ByteWriter(1);
    for (const [, value] of cases) writeData(w, value);
    expect(toHex(w.toBytes())).toBe(cases.map(([, , hex]) => toHex(fromHex(hex))).join(" "));
  });

  it("uses the long length forms for long strings", () => {
    const s128 = new Uint8Array(128).fill(0x41);
    expect(toHex(encodeData({ type: "octet-string", value: s128 }).subarray(0, 3))).toBe("09 81 80");
    const s300 = new Uint8Array(300).fill(0x41);
    const enc = encodeData({ type: "octet-string", value: s300 });
    expect(toHex(enc.subarray(0, 4))).toBe("09 82 01 2C");
    expect(decodeData(enc)).toEqual({ type: "octet-string", value: s300 });
  });

  it("reads one value and leaves the reader after it", () => {
    const r = new ByteReader(fromHex("12 00 0C 11 05"));
    expect(readData(r)).toEqual({ type: "long-unsigned", value: 12 });
    expect(r.offset).toBe(3);
    expect(readData(r)).toEqual({ type: "unsigned", value: 5 });
    expect(r.isMore()).toBe(false);
  });

  it("decodes a 16-byte logical device name (captured from a meter)", () => {
    const d = decodeData(fromHex("09 10 47 52 58 30 30 30 30 30 30 30 31 32 33 34 35 36"));
    expect(d.type).toBe("octet-string");
    expect(new TextDecoder().decode((d as { value: Uint8Array }).value)).toBe("GRX0000000123456");
  });

  it("copies octet strings so the value outlives the receive buffer", () => {
    const buf = fromHex("09 02 01 02");
    const d = decodeData(buf) as { value: Uint8Array };
    buf[2] = 0xff;
    expect([...d.value]).toEqual([1, 2]);
  });

  it("treats any non-zero boolean byte as true", () => {
    expect(decodeData(fromHex("03 FF"))).toEqual({ type: "boolean", value: true });
  });
});

function decodeErrorOf(hex: string): DecodeError {
  try {
    decodeData(fromHex(hex));
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error(`expected ${hex} to fail`);
}

describe("A-XDR Data: bad input is a typed DecodeError", () => {
  it.each([
    ["empty input", "", "truncated"],
    ["unknown tag", "07 00", "unsupported"],
    ["truncated long-unsigned", "12 00", "truncated"],
    ["octet-string longer than the input", "09 05 01 02", "truncated"],
    ["array claiming 2^31 elements in a few bytes", "01 84 80 00 00 00 00 00 00", "truncated"],
    ["structure claiming more fields than bytes", "02 03 11 01", "truncated"],
    ["bit-string claiming 2^32-1 bits", "04 84 FF FF FF FF 00", "truncated"],
    ["indefinite length", "09 80 00", "malformed"],
    ["length of five bytes", "09 85 00 00 00 00 01", "too-large"],
    ["trailing bytes", "11 01 00", "malformed"],
    ["truncated date-time", "19 07 EA 0B", "truncated"],
    ["compact-array inside a description", "13 13 00", "malformed"],
    ["compact-array of null-data with contents", "13 00 01 00", "malformed"],
    ["compact-array contents shorter than claimed", "13 11 05 01", "truncated"],
    ["compact-array with a partial last element", "13 12 03 00 01 02", "truncated"],
    ["compact-array description array too big for contents", "13 01 FF FF 11 02 01 02", "truncated"],
  ])("%s", (_name, hex, code) => {
    expect(decodeErrorOf(hex).code).toBe(code);
  });

  it(`rejects nesting deeper than MAX_DEPTH (${MAX_DEPTH}) but accepts MAX_DEPTH`, () => {
    const nested = (levels: number) => `${"01 01 ".repeat(levels)}00`;
    expect(() => decodeData(fromHex(nested(MAX_DEPTH)))).not.toThrow();
    expect(decodeErrorOf(nested(MAX_DEPTH + 1)).code).toBe("too-deep");
    expect(decodeErrorOf(nested(10_000)).code).toBe("too-deep");
  });

  it("rejects deeply nested compact-array descriptions", () => {
    expect(decodeErrorOf(`13 ${"01 00 01 ".repeat(40)}11 00`).code).toBe("too-deep");
  });

  it("rejects a hostile element count at its length field, before reading any element", () => {
    const e = decodeErrorOf("01 84 80 00 00 00 11 01 11 02");
    expect(e.offset).toBe(1);
    expect(e.message).toMatch(/2147483648 item/);
  });

  it("names the offset of the failure", () => {
    const e = decodeErrorOf("02 02 11 01 07");
    expect(e.offset).toBe(4);
    expect(e.message).toMatch(/0x07/);
  });
});

describe("decodeDataLenient", () => {
  it("returns the value and the garbage a meter appended (captured clock reply)", () => {
    const raw = fromHex("09 0C 07 EA 0B 1A 04 16 14 00 00 00 00 00 09 0F 09 0C");
    const { data, trailing } = decodeDataLenient(raw);
    expect(data).toEqual({ type: "octet-string", value: raw.slice(2, 14) });
    expect(toHex(trailing)).toBe("09 0F 09 0C");
  });

  it("returns no trailing bytes for a clean value and still fails on a broken one", () => {
    expect(decodeDataLenient(fromHex("11 01")).trailing.length).toBe(0);
    expect(() => decodeDataLenient(fromHex("09 05 00"))).toThrow(DecodeError);
  });
});

describe("A-XDR Data: values we cannot encode are a LocalProtocolError", () => {
  it.each<[string, DlmsData]>([
    ["unsigned 256", { type: "unsigned", value: 256 }],
    ["integer -129", { type: "integer", value: -129 }],
    ["long-unsigned 1.5", { type: "long-unsigned", value: 1.5 }],
    ["double-long-unsigned -1", { type: "double-long-unsigned", value: -1 }],
    ["long64-unsigned -1n", { type: "long64-unsigned", value: -1n }],
    ["long64 2^63", { type: "long64", value: 2n ** 63n }],
    ["date-time of 11 bytes", { type: "date-time", value: new Uint8Array(11) }],
    ["visible-string with a non-latin1 character", { type: "visible-string", value: "\u20ac" }],
    ["long64 given a number", { type: "long64", value: 5 as unknown as bigint }],
    [
      "compact-array element not matching its description",
      { type: "compact-array", description: { type: "unsigned" }, value: [{ type: "long", value: 1 }] },
    ],
    [
      "compact-array array element of the wrong size",
      {
        type: "compact-array",
        description: { type: "array", count: 2, element: { type: "unsigned" } },
        value: [{ type: "array", value: [{ type: "unsigned", value: 1 }] }],
      },
    ],
  ])("%s", (_name, value) => {
    expect(() => encodeData(value)).toThrow(LocalProtocolError);
  });

  it("rejects values nested deeper than MAX_DEPTH", () => {
    let d: DlmsData = { type: "null-data" };
    for (let i = 0; i <= MAX_DEPTH; i++) d = { type: "array", value: [d] };
    expect(() => encodeData(d)).toThrow(LocalProtocolError);
  });

  it.each([{ type: "float128", value: 1 }, { type: "toString", value: 1 }, { type: "array", value: 5n }, null])(
    "rejects %s, which is not DlmsData",
    (d) => {
      expect(() => encodeData(d as unknown as DlmsData)).toThrow(LocalProtocolError);
    },
  );
});
