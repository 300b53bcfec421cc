// Reading a load profile (Profile Generic, class 7) through the async client: its description (capture_objects,
// capture_period, entries_in_use, profile_entries, the scaler_unit of every captured register) and then its buffer by
// time range (range_descriptor on the clock column) or by entries (entry_descriptor), rows handed on as each GET
// block decodes. Each row keeps the meter's own timestamp.
import { dataAccessResultName } from "../dlms/apdu/data-access-result.js";
import type { AttributeRequest, GetDataResult, SelectiveAccess } from "../dlms/apdu/types.js";
import { encodeData as encodeDataOf } from "../dlms/axdr/index.js";
import type { DlmsData } from "../dlms/axdr/types.js";
import {
  ClockStatus,
  type CosemDateTime,
  dateTimeFromData,
  dateTimeFromEpochMs,
  dateTimeToEpochMs,
  encodeDateTime,
} from "../dlms/cosem/datetime.js";
import { parseObis } from "../dlms/cosem/obis.js";
import {
  type CaptureObject,
  decodeCaptureObjects,
  encodeEntryDescriptor,
  encodeRangeDescriptor,
  ProfileSelector,
} from "../dlms/cosem/profile-generic.js";
import { ProfileBufferDecoder } from "../dlms/cosem/profile-stream.js";
import { applyScaler, decodeScalerUnit, numericValue } from "../dlms/cosem/scaler.js";
import { DataAccessError } from "../dlms/errors.js";
import { ClientError } from "./errors.js";
import { SCALER_UNIT_OF_CLASS, type ScalerUnit } from "./reads.js";
import type { DlmsClientApi } from "./types.js";

export const PROFILE_CLASS = 7;
const CLOCK_CLASS = 8;
const Attr = { buffer: 2, captureObjects: 3, capturePeriod: 4, entriesInUse: 7, profileEntries: 8 } as const;

export interface ProfileColumn {
  capture: CaptureObject;
  /** Set for the value of a Register / Extended / Demand register whose scaler_unit could be read. */
  scalerUnit?: ScalerUnit;
}

export interface ProfileInfo {
  obis: string;
  columns: ProfileColumn[];
  /** Index of the clock column (class 8 attribute 2), the restricting object of a range read. */
  clockColumn: number | undefined;
  /** Seconds between captures; 0 = asynchronous capture. */
  capturePeriodSeconds: number;
  entriesInUse?: number;
  profileEntries?: number;
}

export interface ProfileRowOut {
  /** The row's time in ms since the epoch as the meter recorded it; undefined when it has none. */
  ts: number | undefined;
  clock?: CosemDateTime;
  /** Per column: the scaled number, or undefined (not numeric, null-data). */
  values: (number | undefined)[];
  cells: DlmsData[];
}

export type ProfileSelection =
  | { kind: "all" }
  /** `columns`: indices into info.columns sent as selected_values (the meter returns only those); default all. */
  | { kind: "range"; fromMs: number; toMs: number; columns?: number[] }
  | { kind: "entries"; from: number; to: number };

export interface ProfileReadOptions {
  /**
   * Deviation (Blue Book sign: minutes to add to local time for UTC) used to encode the range's from/to and for
   * rows whose date-time leaves it unspecified: the meter's own, from its clock. Default 0 (UTC).
   */
  deviationMinutes?: number;
}

function request(obis: string, attributeId: number, access?: SelectiveAccess): AttributeRequest {
  return { classId: PROFILE_CLASS, instanceId: parseObis(obis), attributeId, ...(access ? { access } : {}) };
}

function unsignedOf(result: GetDataResult | undefined): number | undefined {
  if (!result?.ok) return undefined;
  const n = numericValue(result.data);
  return n === undefined ? undefined : Number(n);
}

/** capture_objects and capture_period are required; entries_in_use / profile_entries are optional on meters. */
export async function readProfileInfo(client: DlmsClientApi, obis: string): Promise<ProfileInfo> {
  const [captures, period, inUse, entries] = await client.getMany([
    request(obis, Attr.captureObjects),
    request(obis, Attr.capturePeriod),
    request(obis, Attr.entriesInUse),
    request(obis, Attr.profileEntries),
  ]);
  if (!captures?.ok) {
    const code = captures?.ok === false ? captures.error : 0;
    throw new DataAccessError(code, dataAccessResultName(code), `profile ${obis} capture_objects`);
  }
  const capture = decodeCaptureObjects(captures.data);
  const columns: ProfileColumn[] = capture.map((c) => ({ capture: c }));
  // scaler_unit of each captured register value, in one getMany.
  const scaled = columns.filter((c) =>
    SCALER_UNIT_OF_CLASS.get(c.capture.classId)?.scales.includes(c.capture.attributeId),
  );
  if (scaled.length > 0) {
    const results = await client.getMany(
      scaled.map((c) => ({
        classId: c.capture.classId,
        instanceId: parseObis(c.capture.obis),
        attributeId: SCALER_UNIT_OF_CLASS.get(c.capture.classId)!.attribute,
      })),
    );
    scaled.forEach((column, i) => {
      const r = results[i];
      if (!r?.ok) return;
      try {
        const su = decodeScalerUnit(r.data);
        column.scalerUnit = { scaler: su.scaler, unitCode: su.unit, unit: su.unitSymbol };
      } catch {
        // An unreadable scaler leaves the column unscaled rather than losing the profile.
      }
    });
  }
  const clockColumn = capture.findIndex((c) => c.classId === CLOCK_CLASS && c.attributeId === 2);
  const info: ProfileInfo = {
    obis,
    columns,
    clockColumn: clockColumn >= 0 ? clockColumn : undefined,
    capturePeriodSeconds: unsignedOf(period) ?? 0,
  };
  const entriesInUse = unsignedOf(inUse);
  const profileEntries = unsignedOf(entries);
  if (entriesInUse !== undefined) info.entriesInUse = entriesInUse;
  if (profileEntries !== undefined) info.profileEntries = profileEntries;
  return info;
}

/** The selective access of a selection (undefined: the whole buffer). */
export function profileAccess(
  info: ProfileInfo,
  selection: ProfileSelection,
  deviationMinutes = 0,
): SelectiveAccess | undefined {
  if (selection.kind === "all") return undefined;
  if (selection.kind === "entries") {
    return { selector: ProfileSelector.entry, parameters: encodeEntryDescriptor(selection.from, selection.to) };
  }
  if (info.clockColumn === undefined) {
    throw new ClientError("get", `profile ${info.obis} captures no clock: it can only be read by entries`);
  }
  const at = (ms: number): DlmsData => ({
    type: "octet-string",
    value: encodeDateTime({ ...dateTimeFromEpochMs(ms, deviationMinutes), dayOfWeek: undefined, hundredths: 0 }),
  });
  const restricting = info.columns[info.clockColumn]!.capture;
  const selected = (selection.columns ?? []).map((i) => {
    const column = info.columns[i];
    if (!column) throw new ClientError("get", `profile ${info.obis} has no column ${i}`);
    return column.capture;
  });
  return {
    selector: ProfileSelector.range,
    parameters: encodeRangeDescriptor(restricting, at(selection.fromMs), at(selection.toMs), selected),
  };
}

/**
 * Reads the selected rows and hands them to `onRows` block by block, oldest first as the meter sends them.
 * Resolves with the number of rows. Rejects with DataAccessError when the meter refuses the read.
 */
export async function readProfileRows(
  client: DlmsClientApi,
  info: ProfileInfo,
  selection: ProfileSelection,
  onRows: (rows: ProfileRowOut[]) => void,
  options: ProfileReadOptions = {},
): Promise<number> {
  const deviation = options.deviationMinutes ?? 0;
  const access = profileAccess(info, selection, deviation);
  const selected = selection.kind === "range" && selection.columns?.length ? selection.columns : undefined;
  const decoder = new ProfileBufferDecoder(selected?.length ?? info.columns.length);
  const toRow = rowConverter(info, deviation, selected);
  const attribute = request(info.obis, Attr.buffer, access);
  const feed = (chunk: Uint8Array) => {
    const rows = decoder.push(chunk);
    if (rows.length > 0) onRows(rows.map(toRow));
  };
  if (client.getStream) await client.getStream(attribute, feed);
  else feed(encodeDataOf(await client.get(attribute)));
  decoder.finish();
  return decoder.decoded;
}

/**
 * Cells -> row: the clock column gives the timestamp (its own deviation, else the meter's); a null-data clock
 * (a compressed profile) is the previous row's time plus the capture period.
 */
function rowConverter(
  info: ProfileInfo,
  deviationMinutes: number,
  selected: number[] | undefined,
): (received: DlmsData[]) => ProfileRowOut {
  let previousTs: number | undefined;
  const periodMs = info.capturePeriodSeconds * 1000;
  const absent: DlmsData = { type: "null-data" };
  return (received) => {
    // Cells in capture-object order; columns left out by selected_values are null-data (and their value undefined).
    let cells = received;
    if (selected) {
      cells = info.columns.map(() => absent);
      selected.forEach((column, i) => {
        cells[column] = received[i]!;
      });
    }
    let ts: number | undefined;
    let clock: CosemDateTime | undefined;
    if (info.clockColumn !== undefined) {
      const cell = cells[info.clockColumn]!;
      if (cell.type === "null-data") {
        ts = previousTs !== undefined && periodMs > 0 ? previousTs + periodMs : undefined;
      } else {
        clock = dateTimeFromData(cell);
        ts = clock && !isInvalid(clock) ? dateTimeToEpochMs(clock, deviationMinutes) : undefined;
      }
    }
    previousTs = ts;
    const values = cells.map((cell, i) => {
      if (i === info.clockColumn || (selected && !selected.includes(i))) return undefined;
      const raw = numericValue(cell);
      if (raw === undefined) return undefined;
      const su = info.columns[i]?.scalerUnit;
      return su ? applyScaler(raw, su.scaler) : Number(raw);
    });
    return { ts, ...(clock ? { clock } : {}), values, cells };
  };
}

/** A clock marked invalid by its status byte gives no usable timestamp. */
function isInvalid(dt: CosemDateTime): boolean {
  return dt.clockStatus !== undefined && (dt.clockStatus & ClockStatus.invalid) !== 0;
}

export const CLOCK_OBIS = "0.0.1.0.0.255";

export interface MeterClockReading {
  /** The meter's time in ms since the epoch. */
  ms: number;
  /** Deviation the meter sent with it (undefined: not specified). */
  deviationMinutes?: number;
  clockStatus?: number;
}

/** Clock (class 8) attribute 2 of 0.0.1.0.0.255; undefined when the meter has no readable, valid clock. */
export async function readMeterClock(client: DlmsClientApi): Promise<MeterClockReading | undefined> {
  const [result] = await client.getMany([{ classId: CLOCK_CLASS, instanceId: parseObis(CLOCK_OBIS), attributeId: 2 }]);
  if (!result?.ok) return undefined;
  const dt = dateTimeFromData(result.data);
  if (!dt || isInvalid(dt)) return undefined;
  const ms = dateTimeToEpochMs(dt);
  if (ms === undefined) return undefined;
  return {
    ms,
    ...(dt.deviationMinutes === undefined ? {} : { deviationMinutes: dt.deviationMinutes }),
    ...(dt.clockStatus === undefined ? {} : { clockStatus: dt.clockStatus }),
  };
}
