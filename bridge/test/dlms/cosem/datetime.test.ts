import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import {
  type CosemDateTime,
  dateTimeFromData,
  dateTimeFromEpochMs,
  dateTimeToEpochMs,
  dateTimeToIso,
  decodeDate,
  decodeDateTime,
  decodeTime,
  encodeDate,
  encodeDateTime,
  encodeTime,
} from "../../../src/dlms/cosem/datetime.js";
import { DecodeError, LocalProtocolError } from "../../../src/dlms/errors.js";

// The clock value captured from the reference meter (GET 0.0.1.0.0.255 attr 2).
const CAPTURED = "07 EA 0B 1A 04 16 14 00 00 00 00 00";

describe("COSEM date-time", () => {
  it("decodes the captured clock", () => {
    expect(decodeDateTime(fromHex(CAPTURED))).toEqual({
      year: 2026,
      month: 11,
      day: 26,
      dayOfWeek: 4,
      hour: 22,
      minute: 20,
      second: 0,
      hundredths: 0,
      deviationMinutes: 0,
      clockStatus: 0,
    });
  });

  it("maps 0xFF / 0xFFFF / 0x8000 to 'not specified' and back", () => {
    const hex = "FF FF FF FF FF 0C 1E FF FF 80 00 FF";
    const dt = decodeDateTime(fromHex(hex));
    expect(dt).toEqual({ hour: 12, minute: 30 });
    expect(toHex(encodeDateTime(dt))).toBe(hex);
  });

  it("keeps the signed deviation and DST markers", () => {
    const dt = decodeDateTime(fromHex("07 E8 FE FD 07 02 00 00 00 FF C4 80"));
    expect(dt.deviationMinutes).toBe(-60);
    expect(dt.month).toBe(254);
    expect(dt.day).toBe(253);
    expect(dt.clockStatus).toBe(0x80);
    expect(toHex(encodeDateTime(dt))).toBe("07 E8 FE FD 07 02 00 00 00 FF C4 80");
  });

  it("encodes and decodes date and time alone", () => {
    expect(toHex(encodeDate({ year: 2024, month: 2, day: 29 }))).toBe("07 E8 02 1D FF");
    expect(decodeDate(fromHex("07 E8 02 1D 04"))).toEqual({ year: 2024, month: 2, day: 29, dayOfWeek: 4 });
    expect(toHex(encodeTime({ hour: 23, minute: 59, second: 58, hundredths: 99 }))).toBe("17 3B 3A 63");
    expect(decodeTime(fromHex("17 3B 3A FF"))).toEqual({ hour: 23, minute: 59, second: 58 });
  });

  it("rejects a wrong length with a DecodeError", () => {
    expect(() => decodeDateTime(new Uint8Array(11))).toThrow(DecodeError);
    expect(() => decodeDate(new Uint8Array(4))).toThrow(DecodeError);
    expect(() => decodeTime(new Uint8Array(5))).toThrow(DecodeError);
  });

  it.each<CosemDateTime>([{ month: 0 }, { hour: 24 }, { deviationMinutes: 721 }, { year: 1.5 }, { dayOfWeek: 8 }])(
    "refuses to encode %j",
    (dt) => {
      expect(() => encodeDateTime(dt)).toThrow(LocalProtocolError);
    },
  );

  it("reads date-time from date-time, date, time and 12-byte octet-string values", () => {
    const bytes = fromHex(CAPTURED);
    expect(dateTimeFromData({ type: "octet-string", value: bytes })?.year).toBe(2026);
    expect(dateTimeFromData({ type: "date-time", value: bytes })?.hour).toBe(22);
    expect(dateTimeFromData({ type: "date", value: bytes.subarray(0, 5) })?.day).toBe(26);
    expect(dateTimeFromData({ type: "time", value: bytes.subarray(5, 9) })?.minute).toBe(20);
    expect(dateTimeFromData({ type: "octet-string", value: new Uint8Array(6) })).toBeUndefined();
  });
});

describe("date-time <-> epoch and ISO", () => {
  it("the captured clock is 2026-11-26T22:20:00Z", () => {
    const dt = decodeDateTime(fromHex(CAPTURED));
    expect(dateTimeToEpochMs(dt)).toBe(Date.UTC(2026, 10, 26, 22, 20));
    expect(dateTimeToIso(dt)).toBe("2026-11-26T22:20:00+00:00");
  });

  it("deviation is minutes to add to local time for UTC (CET = -60)", () => {
    const cet: CosemDateTime = { year: 2024, month: 1, day: 15, hour: 13, minute: 0, second: 0, deviationMinutes: -60 };
    expect(dateTimeToEpochMs(cet)).toBe(Date.UTC(2024, 0, 15, 12, 0));
    expect(dateTimeToIso(cet)).toBe("2024-01-15T13:00:00+01:00");
    expect(Date.parse(dateTimeToIso(cet)!)).toBe(dateTimeToEpochMs(cet));
    expect(dateTimeToIso({ ...cet, deviationMinutes: 330 })).toBe("2024-01-15T13:00:00-05:30");
  });

  it("an unspecified deviation gives local ISO without offset, and UTC epoch unless told otherwise", () => {
    const dt: CosemDateTime = { year: 2024, month: 1, day: 15, hour: 13, minute: 0, hundredths: 50 };
    expect(dateTimeToIso(dt)).toBe("2024-01-15T13:00:00.50");
    expect(dateTimeToEpochMs(dt)).toBe(Date.UTC(2024, 0, 15, 13, 0, 0, 500));
    expect(dateTimeToEpochMs(dt, -60)).toBe(Date.UTC(2024, 0, 15, 12, 0, 0, 500));
  });

  it.each<CosemDateTime>([
    { year: 2024, month: 1, day: 15, hour: 13 },
    { month: 1, day: 15, hour: 13, minute: 0 },
    { year: 2023, month: 2, day: 29, hour: 0, minute: 0 },
    { year: 2024, month: 254, day: 1, hour: 0, minute: 0 },
    { year: 2024, month: 4, day: 31, hour: 0, minute: 0 },
    { year: 2024, month: 4, day: 1, hour: 0, minute: 60 },
  ])("is undefined for an incomplete or impossible instant %j", (dt) => {
    expect(dateTimeToEpochMs(dt)).toBeUndefined();
    expect(dateTimeToIso(dt)).toBeUndefined();
  });

  it("fills every field from epoch ms, including the day of week", () => {
    const ms = Date.UTC(2024, 1, 29, 23, 30, 15, 120); // Thursday
    expect(dateTimeFromEpochMs(ms)).toEqual({
      year: 2024,
      month: 2,
      day: 29,
      dayOfWeek: 4,
      hour: 23,
      minute: 30,
      second: 15,
      hundredths: 12,
      deviationMinutes: 0,
      clockStatus: 0,
    });
    const cet = dateTimeFromEpochMs(ms, -60);
    expect([cet.month, cet.day, cet.dayOfWeek, cet.hour]).toEqual([3, 1, 5, 0]);
  });

  it("round-trips epoch ms at hundredth resolution over centuries, Sundays and leap days", () => {
    const step = 7_777_777_777; // ~90 days, walks through all weekdays and month ends
    for (let ms = Date.UTC(1901, 0, 1); ms < Date.UTC(2200, 0, 1); ms += step) {
      for (const deviation of [0, -60, 330]) {
        const dt = dateTimeFromEpochMs(ms, deviation);
        expect(dateTimeToEpochMs(dt)).toBe(Math.floor(ms / 10) * 10);
        const weekday = new globalThis.Date(ms - deviation * 60_000).getUTCDay();
        expect(dt.dayOfWeek).toBe(weekday === 0 ? 7 : weekday);
        expect(decodeDateTime(encodeDateTime(dt))).toEqual(dt);
      }
    }
  });
});
