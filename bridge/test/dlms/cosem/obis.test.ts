import { describe, expect, it } from "vitest";
import { formatObis, isObis, obisFromData, parseObis } from "../../../src/dlms/cosem/obis.js";
import { DecodeError, LocalProtocolError } from "../../../src/dlms/errors.js";

describe("parseObis", () => {
  it.each([
    ["1.0.32.7.0.255", [1, 0, 32, 7, 0, 255]],
    ["1-0:32.7.0*255", [1, 0, 32, 7, 0, 255]],
    ["1-0:32.7.0", [1, 0, 32, 7, 0, 255]],
    ["1-1:32.7.0", [1, 1, 32, 7, 0, 255]],
    ["1-0:1.8.0*101", [1, 0, 1, 8, 0, 101]],
    ["1-0:1.8.0&01", [1, 0, 1, 8, 0, 1]],
    ["1-0:1.8.0.255", [1, 0, 1, 8, 0, 255]],
    ["0.0.96.1.0.255", [0, 0, 96, 1, 0, 255]],
    ["0.0.42.0.0", [0, 0, 42, 0, 0, 255]],
    [" 1.1.21.25.0.255 ", [1, 1, 21, 25, 0, 255]],
  ])("%s", (text, groups) => {
    expect([...parseObis(text)]).toEqual(groups);
  });

  it.each([
    "",
    "1.0.32.7",
    "1.0.32.7.0.255.1",
    "1.0.32.7.0.256",
    "1-0:32.7",
    "1-0:32.7.0*",
    "1-0-32.7.0*255",
    "a.b.c.d.e.f",
    "1.0.-1.7.0.255",
    "1.0.1000.7.0.255",
  ])("rejects %j naming the text", (text) => {
    expect(() => parseObis(text)).toThrow(LocalProtocolError);
    expect(() => parseObis(text)).toThrow(`"${text}"`);
    expect(isObis(text)).toBe(false);
  });
});

describe("formatObis", () => {
  const ln = Uint8Array.from([1, 0, 32, 7, 0, 255]);
  it("formats dotted (default) and IEC styles", () => {
    expect(formatObis(ln)).toBe("1.0.32.7.0.255");
    expect(formatObis(ln, "iec")).toBe("1-0:32.7.0*255");
  });

  it("round-trips through parseObis in both styles", () => {
    for (const text of ["0.0.40.0.0.255", "1.1.21.25.0.255", "255.255.255.255.255.255"]) {
      const bytes = parseObis(text);
      expect(formatObis(bytes)).toBe(text);
      expect(formatObis(parseObis(formatObis(bytes, "iec")))).toBe(text);
    }
  });

  it("rejects a logical name that is not 6 bytes", () => {
    expect(() => formatObis(new Uint8Array(5))).toThrow(LocalProtocolError);
  });
});

describe("obisFromData", () => {
  it("reads a logical-name octet-string", () => {
    expect(obisFromData({ type: "octet-string", value: Uint8Array.from([0, 0, 1, 0, 0, 255]) })).toBe("0.0.1.0.0.255");
  });
  it.each([
    { type: "octet-string", value: new Uint8Array(7) },
    { type: "visible-string", value: "0.0.1.0.0.255" },
  ] as const)("rejects $type with a DecodeError", (d) => {
    expect(() => obisFromData(d)).toThrow(DecodeError);
  });
});
