// Load-profile codec: the selective-access GET requests byte for byte against hand-encoded frames, and the
// incremental buffer decoder fed a buffer holding every column type, split at every possible byte boundary.
import { describe, expect, it } from "vitest";
import { type ProfileInfo, profileAccess } from "../../../src/client/profile.js";
import { decodeApdu, encodeApdu } from "../../../src/dlms/apdu/index.js";
import { encodeData } from "../../../src/dlms/axdr/index.js";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { parseObis } from "../../../src/dlms/cosem/obis.js";
import { encodeBuffer } from "../../../src/dlms/cosem/profile-generic.js";
import { ProfileBufferDecoder } from "../../../src/dlms/cosem/profile-stream.js";
import { DecodeError, SizeLimitError } from "../../../src/dlms/errors.js";

const LOAD_PROFILE = "1.0.99.1.0.255";
const info: ProfileInfo = {
  obis: LOAD_PROFILE,
  columns: [
    { capture: { classId: 8, obis: "0.0.1.0.0.255", attributeId: 2, dataIndex: 0 } },
    { capture: { classId: 3, obis: "1.0.1.8.0.255", attributeId: 2, dataIndex: 0 } },
  ],
  clockColumn: 0,
  capturePeriodSeconds: 900,
};

function getBuffer(access: ReturnType<typeof profileAccess>): Uint8Array {
  return encodeApdu({
    tag: "get-request",
    kind: "normal",
    invoke: { invokeId: 1, confirmed: true, highPriority: true },
    attribute: { classId: 7, instanceId: parseObis(LOAD_PROFILE), attributeId: 2, ...(access ? { access } : {}) },
  });
}

describe("GET of a profile buffer with selective access (hand-encoded)", () => {
  it("range_descriptor: clock column, from/to in the meter's deviation (CET, -60), all columns", () => {
    // 2026-12-01 00:00 and 2026-12-02 00:00 local time at UTC+01:00 (deviation -60 = FF C4), day of week and
    // hundredths not specified / zero, clock status 00.
    const access = profileAccess(
      info,
      { kind: "range", fromMs: Date.UTC(2026, 10, 30, 23), toMs: Date.UTC(2026, 11, 1, 23) },
      -60,
    );
    const expected = [
      "C0 01 C1", // Get-Request-Normal, invoke id 1, confirmed, high priority
      "00 07 01 00 63 01 00 FF 02", // class 7, 1.0.99.1.0.255, attribute 2 (buffer)
      "01 01", // access selection present, selector 1 (range_descriptor)
      "02 04", // structure of 4
      "02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00", // restricting object {8, 0.0.1.0.0.255, 2, 0}
      "09 0C 07 EA 0C 01 FF 00 00 00 00 FF C4 00", // from_value
      "09 0C 07 EA 0C 02 FF 00 00 00 00 FF C4 00", // to_value
      "01 00", // selected_values: empty = all columns
    ].join(" ");
    expect(toHex(getBuffer(access))).toBe(toHex(fromHex(expected)));
    // and the server side reads back what the client meant
    const decoded = decodeApdu(fromHex(expected));
    expect(decoded).toMatchObject({
      kind: "normal",
      attribute: { classId: 7, attributeId: 2, access: { selector: 1 } },
    });
  });

  it("range_descriptor with selected_values: the clock and the energy column only", () => {
    const access = profileAccess(
      info,
      { kind: "range", fromMs: Date.UTC(2026, 11, 1), toMs: Date.UTC(2026, 11, 1, 1), columns: [0, 1] },
      0,
    );
    const expected = [
      "C0 01 C1 00 07 01 00 63 01 00 FF 02 01 01 02 04",
      "02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00", // restricting object: the clock
      "09 0C 07 EA 0C 01 FF 00 00 00 00 00 00 00", // 2026-12-01 00:00 UTC (deviation 0)
      "09 0C 07 EA 0C 01 FF 01 00 00 00 00 00 00", // 01:00
      "01 02", // selected_values: 2 capture objects
      "02 04 12 00 08 09 06 00 00 01 00 00 FF 0F 02 12 00 00",
      "02 04 12 00 03 09 06 01 00 01 08 00 FF 0F 02 12 00 00",
    ].join(" ");
    expect(toHex(getBuffer(access))).toBe(toHex(fromHex(expected)));
    expect(() => profileAccess(info, { kind: "range", fromMs: 0, toMs: 1, columns: [5] })).toThrow(/no column 5/);
  });

  it("entry_descriptor: entries 1..10, all columns", () => {
    const access = profileAccess(info, { kind: "entries", from: 1, to: 10 });
    const expected = [
      "C0 01 C1 00 07 01 00 63 01 00 FF 02",
      "01 02", // selector 2 (entry_descriptor)
      "02 04 06 00 00 00 01 06 00 00 00 0A 12 00 01 12 00 00", // from 1, to 10, columns 1..0 (= all)
    ].join(" ");
    expect(toHex(getBuffer(access))).toBe(toHex(fromHex(expected)));
  });

  it("a whole-buffer read carries no access selection", () => {
    expect(toHex(getBuffer(profileAccess(info, { kind: "all" })))).toBe("C0 01 C1 00 07 01 00 63 01 00 FF 02 00");
  });

  it("a profile without a clock column refuses a range read, naming the profile", () => {
    expect(() => profileAccess({ ...info, clockColumn: undefined }, { kind: "range", fromMs: 0, toMs: 1 })).toThrow(
      /1\.0\.99\.1\.0\.255 captures no clock/,
    );
  });
});

// One entry holding a value of every type a profile column can have.
const EVERY_TYPE: DlmsData[] = [
  { type: "octet-string", value: fromHex("07 EA 0C 01 02 00 0F 00 00 FF C4 80") },
  { type: "null-data" },
  { type: "boolean", value: true },
  { type: "bit-string", value: [true, false, true, false, false, true, false, true] },
  { type: "double-long", value: -123456 },
  { type: "double-long-unsigned", value: 4_000_000_000 },
  { type: "visible-string", value: "OK" },
  { type: "utf8-string", value: "Zähler" },
  { type: "bcd", value: 0x12 },
  { type: "integer", value: -5 },
  { type: "long", value: -300 },
  { type: "unsigned", value: 200 },
  { type: "long-unsigned", value: 65000 },
  { type: "long64", value: -(2n ** 40n) },
  { type: "long64-unsigned", value: 2n ** 63n },
  { type: "enum", value: 3 },
  { type: "float32", value: 1.5 },
  { type: "float64", value: -2.25 },
  { type: "date-time", value: fromHex("07 EA 0C 01 02 00 0F 00 00 FF C4 80") },
  { type: "date", value: fromHex("07 EA 0C 01 02") },
  { type: "time", value: fromHex("00 0F 00 00") },
  {
    type: "structure",
    value: [
      { type: "unsigned", value: 1 },
      { type: "long", value: -2 },
    ],
  },
  { type: "array", value: [{ type: "long-unsigned", value: 7 }] },
];

describe("ProfileBufferDecoder", () => {
  const rows = Array.from({ length: 5 }, (_, i) =>
    EVERY_TYPE.map((d, c) => (c === 5 ? ({ type: "double-long-unsigned", value: i } as DlmsData) : d)),
  );
  const encoded = encodeData(encodeBuffer(rows));

  it("decodes a buffer with every column type in one piece", () => {
    const d = new ProfileBufferDecoder(EVERY_TYPE.length);
    expect(d.push(encoded)).toEqual(rows);
    d.finish();
    expect(d.decoded).toBe(5);
  });

  it("gives the same rows whatever the block boundaries, each as soon as it is complete", () => {
    for (let cut = 1; cut < encoded.length; cut++) {
      const d = new ProfileBufferDecoder(EVERY_TYPE.length);
      const first = d.push(encoded.subarray(0, cut));
      const second = d.push(encoded.subarray(cut));
      expect([...first, ...second]).toEqual(rows);
      d.finish();
    }
  });

  it("byte by byte, rows come out one by one and memory stays below one row", () => {
    const d = new ProfileBufferDecoder();
    const seen: DlmsData[][] = [];
    for (const byte of encoded) seen.push(...d.push(Uint8Array.of(byte)));
    expect(seen).toEqual(rows);
    expect(d.announced).toBe(5);
  });

  it("reports a truncated stream, a wrong width and trailing bytes", () => {
    const short = new ProfileBufferDecoder();
    short.push(encoded.subarray(0, encoded.length - 1));
    expect(() => short.finish()).toThrow(/4 of 5 entries/);
    expect(() => new ProfileBufferDecoder(3).push(encoded)).toThrow(/buffer\[0\]: 23 value\(s\), expected 3/);
    const extra = new Uint8Array([...encoded, 0x00]);
    expect(() => new ProfileBufferDecoder().push(extra)).toThrow(DecodeError);
    expect(() => new ProfileBufferDecoder().push(fromHex("02 00"))).toThrow(/expected an array/);
    expect(() => new ProfileBufferDecoder().finish()).toThrow(/header never arrived/);
  });

  it("refuses an entry that is still incomplete past maxEntryBytes instead of keeping its tail forever", () => {
    // array of 1 entry: structure { octet-string claiming 2^32-1 bytes }, then blocks of filler that never end it.
    const d = new ProfileBufferDecoder(1, 4096);
    expect(d.push(fromHex("01 01 02 01 09 84 ff ff ff ff"))).toEqual([]);
    let error: unknown;
    let pushed = 0;
    try {
      for (; pushed < 100; pushed++) d.push(new Uint8Array(1000));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SizeLimitError);
    // The kept tail: 8 bytes of the entry's start plus the blocks; the 5th block takes it to 5008 > 4096.
    expect((error as Error).message).toBe("buffer[0]: entry still incomplete after 5008 bytes (more than 4096)");
    expect(pushed).toBe(4);
  });
});
