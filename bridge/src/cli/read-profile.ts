// `dlms-bridge read --obis 7/1.0.99.1.0.255/2 [--from ISO --to ISO | --last N]`: a load profile read by time range
// (range_descriptor) or by entries (entry_descriptor), rows printed as they decode (a table, or one JSON object per
// row with --json). Times are the meter's own, shown as it sent them (local time and offset) and in UTC.
import type { DlmsClient } from "../client/client.js";
import {
  type ProfileInfo,
  type ProfileRowOut,
  type ProfileSelection,
  readMeterClock,
  readProfileInfo,
  readProfileRows,
} from "../client/profile.js";
import { dateTimeToIso } from "../dlms/cosem/datetime.js";
import { dataToJson } from "../dlms/cosem/display.js";
import type { CliIo } from "./args.js";
import { intOption, UsageError } from "./args.js";

export type ProfileRequest = { obis: string } & (
  | { kind: "range"; fromMs: number; toMs: number }
  | { kind: "last"; count: number }
);

/** --from/--to (ISO 8601; a time without offset is UTC) or --last N; undefined when none is given. */
export function parseProfileRequest(
  obis: string,
  classId: number,
  values: { from?: string; to?: string; last?: string },
): ProfileRequest | undefined {
  const ranged = values.from !== undefined || values.to !== undefined;
  if (!ranged && values.last === undefined) return classId === 7 ? { obis, kind: "last", count: 10 } : undefined;
  if (classId !== 7) throw new UsageError("--from/--to/--last read a load profile: give --obis 7/<OBIS>/2");
  if (ranged && values.last !== undefined) throw new UsageError("--last and --from/--to exclude each other");
  if (!ranged) return { obis, kind: "last", count: intOption("last", values.last, 1, 10_000_000)! };
  const fromMs = isoOption("from", values.from);
  const toMs = values.to === undefined ? Date.now() : isoOption("to", values.to);
  if (toMs < fromMs) throw new UsageError(`--to ${values.to} is before --from ${values.from}`);
  return { obis, kind: "range", fromMs, toMs };
}

function isoOption(name: string, text: string | undefined): number {
  if (text === undefined) throw new UsageError(`--${name} is required with a range`);
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(text.trim());
  if (!iso) throw new UsageError(`--${name} '${text}' is not an ISO 8601 date-time (e.g. 2026-12-01T00:00:00Z)`);
  const withZone = iso[4] ? text : `${text}${iso[1] ? "Z" : "T00:00:00Z"}`;
  const ms = Date.parse(withZone);
  if (!Number.isFinite(ms)) throw new UsageError(`--${name} '${text}' is not a valid date-time`);
  return ms;
}

/** Reads and prints; resolves with the number of rows. Errors propagate to the caller's failure report. */
export async function printProfile(
  client: DlmsClient,
  request: ProfileRequest,
  json: boolean,
  io: CliIo,
): Promise<number> {
  const info = await readProfileInfo(client, request.obis);
  const clock = await readMeterClock(client);
  let selection: ProfileSelection;
  if (request.kind === "range") selection = { kind: "range", fromMs: request.fromMs, toMs: request.toMs };
  else {
    const inUse = info.entriesInUse;
    if (inUse === undefined) throw new Error(`profile ${request.obis}: entries_in_use (attribute 7) is unreadable`);
    if (inUse === 0) return 0;
    selection = { kind: "entries", from: Math.max(1, inUse - request.count + 1), to: inUse };
  }
  const labels = columnLabels(info);
  if (!json) io.out(["time (meter)", "ts (UTC)", ...labels.filter((_, i) => i !== info.clockColumn)].join("\t"));
  return readProfileRows(
    client,
    info,
    selection,
    (rows) => {
      for (const row of rows) io.out(json ? jsonRow(info, labels, row) : tableRow(info, row));
    },
    { deviationMinutes: clock?.deviationMinutes ?? 0 },
  );
}

function columnLabels(info: ProfileInfo): string[] {
  return info.columns.map((c) => {
    const unit = c.scalerUnit?.unit ? ` [${c.scalerUnit.unit}]` : "";
    return `${c.capture.classId}/${c.capture.obis}/${c.capture.attributeId}${unit}`;
  });
}

function shown(row: ProfileRowOut, i: number): unknown {
  return row.values[i] ?? dataToJson(row.cells[i]!);
}

function tableRow(info: ProfileInfo, row: ProfileRowOut): string {
  const local = row.clock ? (dateTimeToIso(row.clock) ?? "-") : "-";
  const utc = row.ts === undefined ? "-" : new Date(row.ts).toISOString();
  const cells = info.columns.flatMap((_, i) => (i === info.clockColumn ? [] : [format(shown(row, i))]));
  return [local, utc, ...cells].join("\t");
}

function jsonRow(info: ProfileInfo, labels: string[], row: ProfileRowOut): string {
  const values: Record<string, unknown> = {};
  info.columns.forEach((_, i) => {
    if (i !== info.clockColumn) values[labels[i]!] = shown(row, i);
  });
  return JSON.stringify({
    ts: row.ts ?? null,
    time: row.clock ? (dateTimeToIso(row.clock) ?? null) : null,
    ...(row.clock?.clockStatus ? { clockStatus: row.clock.clockStatus } : {}),
    values,
  });
}

function format(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : JSON.stringify(value);
}
