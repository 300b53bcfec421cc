// Load profile buffer (class 7 attribute 2) with the two standard selective accesses (62056-6-2 §4.3.6):
// 1 = range_descriptor (rows whose clock is within [from, to]), 2 = entry_descriptor (rows and columns by index).
import { DataAccessResult } from "../dlms/apdu/data-access-result.js";
import type { GetDataResult, SelectiveAccess } from "../dlms/apdu/types.js";
import type { DlmsData } from "../dlms/axdr/types.js";
import { dateTimeFromData, dateTimeToEpochMs } from "../dlms/cosem/datetime.js";
import type { ProfileRow } from "./meter-model.js";

const RANGE = 1;
const ENTRY = 2;
const COLUMNS = 3; // clock, energy, power

function rowData(row: ProfileRow): DlmsData[] {
  return [row.clock, { type: "double-long-unsigned", value: row.energyWh }, { type: "double-long", value: row.powerW }];
}

const denied: GetDataResult = { ok: false, error: DataAccessResult["read-write-denied"] };

export function readProfileBuffer(rows: ProfileRow[], access?: SelectiveAccess): GetDataResult {
  let selected = rows;
  let firstColumn = 0;
  let lastColumn = COLUMNS - 1;
  if (access?.selector === RANGE) {
    const range = rangeBounds(access.parameters);
    if (!range) return denied;
    selected = rows.filter((r) => r.ms >= range.from && r.ms <= range.to);
  } else if (access?.selector === ENTRY) {
    const entry = entryBounds(access.parameters, rows.length);
    if (!entry) return denied;
    selected = rows.slice(entry.fromRow, entry.toRow + 1);
    firstColumn = entry.fromColumn;
    lastColumn = entry.toColumn;
  } else if (access) {
    return denied; // an access selector this object does not offer
  }
  return {
    ok: true,
    data: {
      type: "array",
      value: selected.map((row) => ({ type: "structure", value: rowData(row).slice(firstColumn, lastColumn + 1) })),
    },
  };
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
function entryBounds(parameters: DlmsData, rowCount: number) {
  const values = (fields(parameters) ?? []).map((d) =>
    "value" in d && typeof d.value === "number" ? d.value : undefined,
  );
  const [fromEntry, toEntry, fromValue, toValue] = values;
  if (values.length !== 4 || values.some((v) => v === undefined)) return undefined;
  const toRow = (toEntry === 0 ? rowCount : Math.min(toEntry!, rowCount)) - 1;
  const toColumn = (toValue === 0 ? COLUMNS : Math.min(toValue!, COLUMNS)) - 1;
  return { fromRow: Math.max(fromEntry!, 1) - 1, toRow, fromColumn: Math.max(fromValue!, 1) - 1, toColumn };
}
