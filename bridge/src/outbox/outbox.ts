// Durable outbox: every reading is a row (topic + payload) until the broker acknowledges it (PUBACK), so nothing
// is lost while the broker is down or the bridge restarts. Synchronous better-sqlite3 calls: each batch is one
// atomic transaction and the hot path never waits on the event loop. When the disk refuses even the DELETE of an
// acknowledged row (disk full), the id is remembered here and the delete retried: the row is never handed out
// again by this process (no duplicate), and only a restart before the delete succeeds sends it again, unchanged
// (same meter and ts, so a consumer keyed on them drops it).
import type { Statement } from "better-sqlite3";
import type { Reading } from "../model.js";
import { telemetryPayload, telemetryTopic } from "../publish/payloads.js";
import type { Db } from "../store/db.js";
import { rateLimitedCounter } from "./write-health.js";

export interface OutboxMessage {
  meter: string;
  topic: string;
  payload: string;
}

export interface OutboxRow extends OutboxMessage {
  id: number;
  createdAt: number;
}

export interface OutboxOptions {
  /** Bound on stored rows; beyond it the OLDEST rows are dropped. */
  maxRows: number;
  /** Called with the number of rows dropped by the bound (count them, log them). */
  onDropped?: (count: number) => void;
  now?: () => number;
}

/** The telemetry message of a reading; throws (naming meter and key) for a reading that cannot be published. */
export function telemetryMessage(reading: Reading): OutboxMessage {
  return { meter: reading.meter, topic: telemetryTopic(reading.meter), payload: telemetryPayload(reading) };
}

export class Outbox {
  private readonly maxRows: number;
  private readonly now: () => number;
  private readonly listeners = new Set<() => void>();
  private readonly drainedListeners = new Set<() => void>();
  /** Rows in the table (acknowledged-but-undeleted ones included). */
  private count: number;
  /**
   * Highest row id this process knows of. Ids are AUTOINCREMENT (never reused) and this Outbox is the table's
   * only writer (one per database, see app.ts), so no row has a higher id: peek() past it answers without a query
   * (the publisher asks after every PUBACK and once more after each window it fills).
   */
  private lastId: number;
  /** Acknowledged by the broker, DELETE not yet committed (the disk refused it): never handed out again. */
  private readonly acked = new Set<number>();
  private readonly insertRow: Statement<[string, string, string, number]>;
  private readonly deleteRow: Statement<[number]>;
  private readonly dropOldest: Statement<[number]>;
  private readonly selectAfter: Statement<[number, number]>;
  private readonly selectOldest: Statement<[number, number]>;
  private readonly selectMinId: Statement<[]>;
  private readonly selectId: Statement<[number]>;
  private readonly insertBatch: (messages: readonly OutboxMessage[]) => { ids: number[]; dropped: number };
  private readonly deleteBatch: (ids: readonly number[]) => number;

  constructor(
    db: Db,
    private readonly options: OutboxOptions,
  ) {
    if (!Number.isInteger(options.maxRows) || options.maxRows < 1) {
      throw new Error(`outbox maxRows must be a positive integer, got ${options.maxRows}`);
    }
    this.maxRows = options.maxRows;
    this.now = options.now ?? Date.now;
    const { sqlite } = db;
    this.insertRow = sqlite.prepare("INSERT INTO outbox (meter, topic, payload, created_at) VALUES (?, ?, ?, ?)");
    this.deleteRow = sqlite.prepare("DELETE FROM outbox WHERE id = ?");
    this.dropOldest = sqlite.prepare("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id LIMIT ?)");
    this.selectAfter = sqlite.prepare(
      "SELECT id, meter, topic, payload, created_at AS createdAt FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
    );
    this.selectOldest = sqlite.prepare(
      "SELECT id, created_at AS createdAt FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
    );
    this.selectMinId = sqlite.prepare("SELECT MIN(id) AS id FROM outbox");
    this.selectId = sqlite.prepare("SELECT 1 FROM outbox WHERE id = ?");
    this.count = (sqlite.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n;
    this.lastId = (sqlite.prepare("SELECT MAX(id) AS id FROM outbox").get() as { id: number | null }).id ?? 0;

    this.insertBatch = sqlite.transaction((messages: readonly OutboxMessage[]) => {
      const createdAt = this.now();
      const ids = messages.map((m) =>
        Number(this.insertRow.run(m.meter, m.topic, m.payload, createdAt).lastInsertRowid),
      );
      const overflow = this.count + messages.length - this.maxRows;
      return { ids, dropped: overflow > 0 ? this.dropOldest.run(overflow).changes : 0 };
    });
    this.deleteBatch = sqlite.transaction((ids: readonly number[]) => {
      let deleted = 0;
      for (const id of ids) deleted += this.deleteRow.run(id).changes;
      return deleted;
    });
  }

  /**
   * Stores the readings in ONE transaction: all or none. Readings without values are skipped (nothing to
   * publish). Throws before writing anything if one reading cannot be published. Returns rows written.
   */
  enqueue(readings: readonly Reading[]): number {
    return this.enqueueMessages(readings.filter((r) => Object.keys(r.values).length > 0).map(telemetryMessage)).length;
  }

  /** Stores ready-made messages in one transaction (see enqueue); returns their row ids, in order. */
  enqueueMessages(messages: readonly OutboxMessage[]): number[] {
    if (messages.length === 0) return [];
    const { ids, dropped } = this.insertBatch(messages);
    this.lastId = Math.max(this.lastId, ids.at(-1)!);
    this.count += messages.length - dropped;
    if (dropped > 0) {
      this.forgetDroppedAcks();
      this.options.onDropped?.(dropped);
    }
    for (const listener of this.listeners) listener();
    return ids;
  }

  /** True while row `id` waits for its PUBACK (false once acknowledged, even if not deleted yet, or dropped). */
  isPending(id: number): boolean {
    return !this.acked.has(id) && this.selectId.get(id) !== undefined;
  }

  /** Up to `limit` unacknowledged rows with id > afterId, oldest first. */
  peek(limit: number, afterId = 0): OutboxRow[] {
    if (afterId >= this.lastId) return [];
    if (this.acked.size === 0) return this.selectAfter.all(afterId, limit) as OutboxRow[];
    const rows: OutboxRow[] = [];
    for (let cursor = afterId; rows.length < limit; ) {
      const page = this.selectAfter.all(cursor, limit) as OutboxRow[];
      if (page.length === 0) break;
      for (const row of page) if (!this.acked.has(row.id) && rows.length < limit) rows.push(row);
      cursor = page.at(-1)!.id;
    }
    return rows;
  }

  /**
   * Deletes acknowledged rows (ids already gone, e.g. dropped by the bound, are ignored); returns rows deleted.
   * If the disk refuses, the ids are kept (never peeked again), retried with the next ack or retryDeletes(), and
   * the database error is thrown.
   */
  ack(ids: readonly number[]): number {
    for (const id of ids) this.acked.add(id);
    return this.retryDeletes();
  }

  /** Deletes the acknowledged rows a full disk kept; returns rows deleted (throws the error if it still fails). */
  retryDeletes(): number {
    if (this.acked.size === 0) return 0;
    const deleted = this.deleteBatch([...this.acked]);
    this.acked.clear();
    this.count -= deleted;
    if (this.count === 0) for (const listener of this.drainedListeners) listener();
    return deleted;
  }

  /** Rows not yet acknowledged by the broker. */
  pending(): number {
    return Math.max(0, this.count - this.acked.size);
  }

  /** Rows the broker acknowledged whose delete the disk has refused so far (sent again after a restart). */
  ackedUndeleted(): number {
    return this.acked.size;
  }

  /** Milliseconds since the oldest unacknowledged row was stored; 0 when none. */
  oldestAgeMs(now = this.now()): number {
    for (let cursor = 0; ; ) {
      const page = this.selectOldest.all(cursor, 64) as Array<{ id: number; createdAt: number }>;
      if (page.length === 0) return 0;
      const oldest = page.find((row) => !this.acked.has(row.id));
      if (oldest) return Math.max(0, now - oldest.createdAt);
      cursor = page.at(-1)!.id;
    }
  }

  /** Calls `listener` each time deleting acknowledged rows leaves the table empty; returns the unsubscribe. */
  onDrained(listener: () => void): () => void {
    this.drainedListeners.add(listener);
    return () => this.drainedListeners.delete(listener);
  }

  /** After the bound dropped the oldest rows: acknowledged ids below the oldest remaining row no longer exist. */
  private forgetDroppedAcks(): void {
    if (this.acked.size === 0) return;
    const min = (this.selectMinId.get() as { id: number | null }).id ?? Number.POSITIVE_INFINITY;
    for (const id of this.acked) if (id < min) this.acked.delete(id);
  }

  /** Calls `listener` after each committed enqueue; returns the unsubscribe function. */
  onEnqueued(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Why readings were dropped (label `reason` of dlms_bridge_outbox_dropped_total). */
export type DropReason = "max_rows" | "memory_full" | "write_error" | "shutdown";
export const DROP_REASONS: readonly DropReason[] = ["max_rows", "memory_full", "write_error", "shutdown"];

/**
 * The onDropped handler the bridge uses: counts every dropped row in dlms_bridge_outbox_dropped_total{reason=
 * "max_rows"} and logs at most one line per `logEveryMs` (default 10 s) with the rows dropped since the last one.
 */
export function reportDrops(
  metrics: { outboxDroppedTotal: { inc(labels: { reason: DropReason }, value: number): void } },
  log: { warn(details: object, message: string): void },
  maxRows: number,
  logEveryMs = 10_000,
): (count: number) => void {
  const logged = rateLimitedCounter(
    (dropped) =>
      log.warn(
        { dropped, maxRows, perSeconds: logEveryMs / 1000 },
        "outbox full: dropped the oldest readings (broker unreachable too long?)",
      ),
    logEveryMs,
  );
  return (count) => {
    metrics.outboxDroppedTotal.inc({ reason: "max_rows" }, count);
    logged.add(count);
  };
}
