import { describe, expect, it } from "vitest";
import { decodeData, encodeData } from "../../../src/dlms/axdr/index.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import {
  AttributeAccess,
  canRead,
  decodeObjectList,
  encodeObjectList,
  MethodAccess,
  type ObjectListEntry,
} from "../../../src/dlms/cosem/association-ln.js";
import { DecodeError } from "../../../src/dlms/errors.js";

// One Register entry: class 3 v0 1.0.32.7.0.255, attrs {1 read-only, 2 read-only, 3 read-write with selectors [1, 2]},
// method 1 access; encoded by hand.
const REGISTER_HEX = [
  "01 01 02 04 12 00 03 11 00 09 06 01 00 20 07 00 FF",
  "02 02",
  "01 03 02 03 0F 01 16 01 00 02 03 0F 02 16 01 00 02 03 0F 03 16 03 01 02 0F 01 0F 02",
  "01 01 02 02 0F 01 16 01",
].join(" ");

const REGISTER: ObjectListEntry = {
  classId: 3,
  version: 0,
  obis: "1.0.32.7.0.255",
  attributes: [
    { id: 1, access: 1 },
    { id: 2, access: 1 },
    { id: 3, access: 3, selectors: [1, 2] },
  ],
  methods: [{ id: 1, access: 1 }],
};

describe("Association LN object_list", () => {
  it("decodes a hand-encoded entry", () => {
    expect(decodeObjectList(decodeData(fromHex(REGISTER_HEX)))).toEqual([REGISTER]);
  });

  it("encodes the same bytes", () => {
    expect(toHex(encodeData(encodeObjectList([REGISTER])))).toBe(toHex(fromHex(REGISTER_HEX)));
  });

  it("reads version-0 boolean method access as 0/1", () => {
    const hex =
      "01 01 02 04 12 00 0F 11 00 09 06 00 00 28 00 00 FF 02 02 01 00 01 02 02 02 0F 01 03 01 02 02 0F 02 03 00";
    expect(decodeObjectList(decodeData(fromHex(hex)))[0]!.methods).toEqual([
      { id: 1, access: 1 },
      { id: 2, access: 0 },
    ]);
  });

  it("names access modes", () => {
    expect(AttributeAccess[REGISTER.attributes[2]!.access as keyof typeof AttributeAccess]).toBe("read-write");
    expect(MethodAccess[2]).toBe("authenticated-access");
  });

  it("tells which attributes can be read", () => {
    const entry: ObjectListEntry = {
      ...REGISTER,
      attributes: [0, 1, 2, 3, 4, 5, 6].map((access, i) => ({ id: i + 1, access })),
    };
    expect([1, 2, 3, 4, 5, 6, 7, 8].filter((id) => canRead(entry, id))).toEqual([2, 4, 5, 7]);
  });

  it.each([
    ["not an array", "02 00"],
    ["an entry with 3 fields", "01 01 02 03 12 00 03 11 00 09 06 01 00 20 07 00 FF"],
    ["a logical name of 4 bytes", "01 01 02 04 12 00 03 11 00 09 04 01 00 20 07 02 02 01 00 01 00"],
    [
      "selectors that are not an array",
      "01 01 02 04 12 00 03 11 00 09 06 01 00 20 07 00 FF 02 02 01 01 02 03 0F 01 16 01 11 05 01 00",
    ],
    ["access rights that are not a structure", "01 01 02 04 12 00 03 11 00 09 06 01 00 20 07 00 FF 01 00"],
  ])("rejects %s with a DecodeError naming the path", (_name, hex) => {
    expect(() => decodeObjectList(decodeData(fromHex(hex)))).toThrow(DecodeError);
    expect(() => decodeObjectList(decodeData(fromHex(hex)))).toThrow(/object_list\[0\]|object_list:/);
  });
});
