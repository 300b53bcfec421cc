// The simulated load profile (class 7): one row per capture period of the METER's clock, computed on demand from
// the meter's physics, so it "keeps recording" while no client is connected and a year of rows costs nothing until
// read. The buffer holds the captures since `startMs` (the simulator started "in the past" with --history), at most
// `capacity` of them (profile_entries, FIFO). Selective access (62056-6-2 §4.3.6): 1 = range_descriptor on the
// clock column, 2 = entry_descriptor (rows and columns by index).
import { DataAccessResult } from "../dlms/apdu/data-access-result.js";
import type { GetDataResult, SelectiveAccess } from "../dlms/apdu/types.js";
import type { DlmsData } from "../dlms/axdr/types.js";
import { dateTimeFromData, dateTimeToEpochMs } from "../dlms/cosem/datetime.js";

const RANGE = 1;
const ENTRY = 2;

export interface ProfileSource {
  /** capture_objects as sent in attribute 3 (to resolve selected_values of a range read). */
  captureObjects?: readonly DlmsData[];
  periodMs: number;
  /** Most rows kept (profile_entries). */
  capacity: number;
  /** First capture instant (meter time, ms); earlier rows never existed. */
  startMs: number;
  /** The meter's clock column value at a capture instant (meter time). */
  clock(ms: number): DlmsData;
  /** The captured values after the clock (energy, power...). */
  values(ms: number): DlmsData[];
}

const denied: GetDataResult = { ok: false, error: DataAccessResult["read-write-denied"] };

/** Capture indices k (row time k * periodMs) held in the buffer at meter time `nowMs`. */
export function bufferSpan(p: ProfileSource, nowMs: number): { first: number; last: number } {
  const last = Math.floor(nowMs / p.periodMs);
  const first = Math.max(Math.ceil(p.startMs / p.periodMs), last - p.capacity + 1);
  return { first, last };
}

export function entriesInUse(p: ProfileSource, nowMs: number): number {
  const { first, last } = bufferSpan(p, nowMs);
  return Math.max(0, last - first + 1);
}

export function readProfileBuffer(p: ProfileSource, nowMs: number, access?: SelectiveAccess): GetDataResult {
  const span = bufferSpan(p, nowMs);
  let { first, last } = span;
  const columns = 1 + p.values(first * p.periodMs).length;
  let firstColumn = 0;
  let lastColumn = columns - 1;
  let picked: number[] | undefined;
  if (access?.selector === RANGE) {
    const range = rangeBounds(access.parameters);
    if (!range) return denied;
    first = Math.max(first, Math.ceil(range.from / p.periodMs));
    last = Math.min(last, Math.floor(range.to / p.periodMs));
    const selected = selectedColumns(p, access.parameters);
    if (selected === null) return denied; // a selected value this profile does not capture
    picked = selected;
  } else if (access?.selector === ENTRY) {
    const entry = entryBounds(access.parameters, last - first + 1, columns);
    if (!entry) return denied;
    last = Math.min(last, span.first + entry.toRow);
    first = span.first + entry.fromRow;
    firstColumn = entry.fromColumn;
    lastColumn = entry.toColumn;
  } else if (access) {
    return denied; // an access selector this object does not offer
  }
  const rows: DlmsData[] = [];
  for (let k = first; k <= last; k++) {
    const ms = k * p.periodMs;
    const all = [p.clock(ms), ...p.values(ms)];
    const row = picked ? picked.map((i) => all[i]!) : all.slice(firstColumn, lastColumn + 1);
    rows.push({ type: "structure", value: row });
  }
  return { ok: true, data: { type: "array", value: rows } };
}

/** selected_values of a range_descriptor as column indices; undefined = all columns, null = unknown column. */
function selectedColumns(p: ProfileSource, parameters: DlmsData): number[] | undefined | null {
  const list = fields(parameters)?.[3];
  if (list?.type !== "array" || list.value.length === 0) return undefined;
  const key = (d: DlmsData) => JSON.stringify(d, (_k, v) => (v instanceof Uint8Array ? [...v] : v));
  const known = (p.captureObjects ?? []).map(key);
  const indices = list.value.map((d) => known.indexOf(key(d)));
  return indices.includes(-1) ? null : indices;
}

function fields(parameters: DlmsData): DlmsData[] | undefined {
  return parameters.type === "structure" ? parameters.value : undefined;
}

function rangeBounds(parameters: DlmsData): { from: number; to: number } | undefined {
  const [, fromValue, toValue] = fields(parameters) ?? [];
  if (!fromValue || !toValue) return undefined;
  const from = dateTimeOf(fromValue);
  const to = dateTimeOf(toValue);
  return from === undefined || to === undefined ? undefined : { from, to };
}

function dateTimeOf(d: DlmsData): number | undefined {
  try {
    const dt = dateTimeFromData(d);
    return dt ? dateTimeToEpochMs(dt) : undefined;
  } catch {
    return undefined; // a malformed date-time is the client's error: the read is refused, not the meter crashed
  }
}

/** entry_descriptor: 1-based, inclusive; 0 as a "to" index means "up to the last". */
function entryBounds(parameters: DlmsData, rowCount: number, columns: number) {
  const values = (fields(parameters) ?? []).map((d) =>
    "value" in d && typeof d.value === "number" ? d.value : undefined,
  );
  const [fromEntry, toEntry, fromValue, toValue] = values;
  if (values.length !== 4 || values.some((v) => v === undefined)) return undefined;
  const toRow = (toEntry === 0 ? rowCount : Math.min(toEntry!, rowCount)) - 1;
  const toColumn = (toValue === 0 ? columns : Math.min(toValue!, columns)) - 1;
  return { fromRow: Math.max(fromEntry!, 1) - 1, toRow, fromColumn: Math.max(fromValue!, 1) - 1, toColumn };
}
