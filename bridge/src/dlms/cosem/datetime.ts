// COSEM date-time (62056-6-2 4.1.6.1): 12 bytes year(2) month day day-of-week hour minute second hundredths
// deviation(2, signed) clock-status. 0xFF (0xFFFF year, 0x8000 deviation) means "not specified" -> undefined here.
// Deviation is the minutes to ADD to local time to get UTC (so UTC+01:00 is deviation -60), as the Blue Book defines it.

import type { DlmsData } from "../axdr/types.js";
import { ByteReader } from "../codec/reader.js";
import { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";

export interface CosemDateTime {
  year?: number;
  /** 1..12; 253 = end of daylight saving, 254 = begin of daylight saving. */
  month?: number;
  /** 1..31; 253 = second last day of month, 254 = last day of month. */
  day?: number;
  /** 1 = Monday .. 7 = Sunday. */
  dayOfWeek?: number;
  hour?: number;
  minute?: number;
  second?: number;
  hundredths?: number;
  /** Minutes to add to local time to get UTC (-720..720). */
  deviationMinutes?: number;
  /** Bit field: 0x01 invalid, 0x02 doubtful, 0x04 different clock base, 0x08 invalid status, 0x80 daylight saving active. */
  clockStatus?: number;
}

export const ClockStatus = {
  invalid: 0x01,
  doubtful: 0x02,
  differentClockBase: 0x04,
  invalidStatus: 0x08,
  daylightSavingActive: 0x80,
} as const;

const NOT_SPECIFIED = 0xff;
const YEAR_NOT_SPECIFIED = 0xffff;
const DEVIATION_NOT_SPECIFIED = -0x8000;
const MS_PER_MINUTE = 60_000;

const byteOrUndefined = (b: number): number | undefined => (b === NOT_SPECIFIED ? undefined : b);

function readDatePart(r: ByteReader): Pick<CosemDateTime, "year" | "month" | "day" | "dayOfWeek"> {
  const year = r.readUInt16("year");
  return {
    year: year === YEAR_NOT_SPECIFIED ? undefined : year,
    month: byteOrUndefined(r.readUInt8("month")),
    day: byteOrUndefined(r.readUInt8("day")),
    dayOfWeek: byteOrUndefined(r.readUInt8("day of week")),
  };
}

function readTimePart(r: ByteReader): Pick<CosemDateTime, "hour" | "minute" | "second" | "hundredths"> {
  return {
    hour: byteOrUndefined(r.readUInt8("hour")),
    minute: byteOrUndefined(r.readUInt8("minute")),
    second: byteOrUndefined(r.readUInt8("second")),
    hundredths: byteOrUndefined(r.readUInt8("hundredths")),
  };
}

function expectLength(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) throw new DecodeError("malformed", `${what}: expected ${n} bytes, got ${b.length}`);
}

/** Removes the keys whose value is undefined, so results compare and print cleanly. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function decodeDateTime(b: Uint8Array): CosemDateTime {
  expectLength(b, 12, "date-time");
  const r = new ByteReader(b);
  const date = readDatePart(r);
  const time = readTimePart(r);
  const deviation = r.readInt16("deviation");
  const status = r.readUInt8("clock status");
  return compact({
    ...date,
    ...time,
    deviationMinutes: deviation === DEVIATION_NOT_SPECIFIED ? undefined : deviation,
    clockStatus: byteOrUndefined(status),
  });
}

/** A 5-byte COSEM date. */
export function decodeDate(b: Uint8Array): CosemDateTime {
  expectLength(b, 5, "date");
  return compact(readDatePart(new ByteReader(b)));
}

/** A 4-byte COSEM time. */
export function decodeTime(b: Uint8Array): CosemDateTime {
  expectLength(b, 4, "time");
  return compact(readTimePart(new ByteReader(b)));
}

/**
 * The date-time in a Data value: date-time / date / time, or the octet-string of 12 (5, 4) bytes that Clock and
 * profile buffers use. Undefined for anything else.
 */
export function dateTimeFromData(d: DlmsData): CosemDateTime | undefined {
  if (d.type === "date-time") return decodeDateTime(d.value);
  if (d.type === "date") return decodeDate(d.value);
  if (d.type === "time") return decodeTime(d.value);
  if (d.type === "octet-string" && d.value.length === 12) return decodeDateTime(d.value);
  return undefined;
}

function field(value: number | undefined, name: string, min: number, max: number, absent = NOT_SPECIFIED): number {
  if (value === undefined) return absent;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new LocalProtocolError(`date-time ${name} ${value} is not in ${min}..${max}`);
  }
  return value;
}

function writeDatePart(w: ByteWriter, dt: CosemDateTime): void {
  w.writeUInt16(field(dt.year, "year", 0, 0xfffe, YEAR_NOT_SPECIFIED));
  w.writeUInt8(field(dt.month, "month", 1, 254));
  w.writeUInt8(field(dt.day, "day", 1, 254));
  w.writeUInt8(field(dt.dayOfWeek, "dayOfWeek", 1, 7));
}

function writeTimePart(w: ByteWriter, dt: CosemDateTime): void {
  w.writeUInt8(field(dt.hour, "hour", 0, 23));
  w.writeUInt8(field(dt.minute, "minute", 0, 59));
  w.writeUInt8(field(dt.second, "second", 0, 59));
  w.writeUInt8(field(dt.hundredths, "hundredths", 0, 99));
}

export function encodeDateTime(dt: CosemDateTime): Uint8Array {
  const w = new ByteWriter(12);
  writeDatePart(w, dt);
  writeTimePart(w, dt);
  w.writeInt16(field(dt.deviationMinutes, "deviationMinutes", -720, 720, DEVIATION_NOT_SPECIFIED));
  w.writeUInt8(field(dt.clockStatus, "clockStatus", 0, 0xfe));
  return w.toBytes();
}

export function encodeDate(dt: CosemDateTime): Uint8Array {
  const w = new ByteWriter(5);
  writeDatePart(w, dt);
  return w.toBytes();
}

export function encodeTime(dt: CosemDateTime): Uint8Array {
  const w = new ByteWriter(4);
  writeTimePart(w, dt);
  return w.toBytes();
}

const MS_PER_DAY = 86_400_000;

function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

interface Civil {
  year: number;
  month: number;
  day: number;
  dayOfWeek: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** Calendar fields of a UTC ms count, without Date objects (the core has no clock). */
function civilFromMs(ms: number): Civil {
  const days = Math.floor(ms / MS_PER_DAY);
  const msOfDay = ms - days * MS_PER_DAY;
  // Days-to-civil over 400-year eras starting 0000-03-01 (H. Hinnant's algorithm).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return {
    year: yoe + era * 400 + (month <= 2 ? 1 : 0),
    month,
    day,
    dayOfWeek: ((((days + 3) % 7) + 7) % 7) + 1, // 1970-01-01 was a Thursday (4)
    hour: Math.floor(msOfDay / 3_600_000),
    minute: Math.floor(msOfDay / 60_000) % 60,
    second: Math.floor(msOfDay / 1000) % 60,
    ms: msOfDay % 1000,
  };
}

/** Local wall-clock time as ms (as if it were UTC), or undefined unless it is one definite, valid instant. */
function localMs(dt: CosemDateTime): number | undefined {
  const { year, month, day, hour, minute, second = 0, hundredths = 0 } = dt;
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined) {
    return undefined;
  }
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59 || hundredths > 99) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, hundredths * 10);
}

/** ms since the epoch; an unspecified deviation is taken as `assumeDeviationMinutes` (default 0, i.e. UTC). */
export function dateTimeToEpochMs(dt: CosemDateTime, assumeDeviationMinutes = 0): number | undefined {
  const local = localMs(dt);
  if (local === undefined) return undefined;
  return local + (dt.deviationMinutes ?? assumeDeviationMinutes) * MS_PER_MINUTE;
}

export function dateTimeFromEpochMs(ms: number, deviationMinutes = 0): CosemDateTime {
  if (!Number.isFinite(ms)) throw new LocalProtocolError(`not a time: ${ms}`);
  const { ms: millis, ...fields } = civilFromMs(ms - deviationMinutes * MS_PER_MINUTE);
  return { ...fields, hundredths: Math.floor(millis / 10), deviationMinutes, clockStatus: 0 };
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/**
 * ISO 8601 text of the local time the meter sent, with its UTC offset when the deviation is known
 * ("2026-11-26T22:20:00+01:00" for deviation -60); undefined if date or time is incomplete or invalid.
 */
export function dateTimeToIso(dt: CosemDateTime): string | undefined {
  const local = localMs(dt);
  if (local === undefined) return undefined;
  const t = civilFromMs(local);
  const date = `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
  const fraction = dt.hundredths ? `.${pad(dt.hundredths)}` : "";
  const time = `${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}${fraction}`;
  if (dt.deviationMinutes === undefined) return `${date}T${time}`;
  const offset = -dt.deviationMinutes;
  const sign = offset < 0 ? "-" : "+";
  return `${date}T${time}${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
}
