// Meter events (connects, failures, breaker moves...) kept for EVENT_RETENTION_DAYS for diagnosis.
import type { Db } from "./db.js";

export interface MeterEvent {
  meter: string;
  kind: string;
  /** Serialised as JSON; callers never put secrets here. */
  detail: Record<string, unknown>;
  ts: number;
}

const DAY_MS = 86_400_000;

export async function recordEvent(db: Db, event: MeterEvent): Promise<void> {
  await db.kysely
    .insertInto("events")
    .values({ meter: event.meter, kind: event.kind, detail: JSON.stringify(event.detail), ts: event.ts })
    .execute();
}

/** Newest first. */
export async function listEvents(db: Db, options: { meter?: string; limit?: number } = {}): Promise<MeterEvent[]> {
  let query = db.kysely.selectFrom("events").selectAll();
  if (options.meter !== undefined) query = query.where("meter", "=", options.meter);
  const rows = await query
    .orderBy("id", "desc")
    .limit(options.limit ?? 100)
    .execute();
  return rows.map((row) => ({
    meter: row.meter,
    kind: row.kind,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
    ts: row.ts,
  }));
}

/** Deletes events older than `retentionDays`; returns how many. */
export async function pruneEvents(db: Db, retentionDays: number, now = Date.now()): Promise<number> {
  const result = await db.kysely
    .deleteFrom("events")
    .where("ts", "<", now - retentionDays * DAY_MS)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Prunes now and then every `everyMs` (default hourly) in the background; returns the function that stops it.
 * Failures are reported to `onError` and retried at the next tick.
 */
export function schedulePruning(
  db: Db,
  retentionDays: number,
  onError: (error: unknown) => void,
  everyMs = 3_600_000,
): () => void {
  const run = () => {
    pruneEvents(db, retentionDays).catch(onError);
  };
  run();
  const timer = setInterval(run, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
