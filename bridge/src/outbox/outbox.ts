// Durable outbox: every reading is a row (topic + payload) until the broker acknowledges it (PUBACK), so nothing
// is lost while the broker is down or the bridge restarts. Synchronous better-sqlite3 calls: each batch is one
// atomic transaction and the hot path never waits on the event loop.
import type { Statement } from "better-sqlite3";
import type { Reading } from "../model.js";
import { telemetryPayload, telemetryTopic } from "../publish/payloads.js";
import type { Db } from "../store/db.js";

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
  private count: number;
  private readonly insertRow: Statement<[string, string, string, number]>;
  private readonly deleteRow: Statement<[number]>;
  private readonly dropOldest: Statement<[number]>;
  private readonly selectAfter: Statement<[number, number]>;
  private readonly selectOldest: Statement<[]>;
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
    this.selectOldest = sqlite.prepare("SELECT created_at AS createdAt FROM outbox ORDER BY id LIMIT 1");
    this.selectId = sqlite.prepare("SELECT 1 FROM outbox WHERE id = ?");
    this.count = (sqlite.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n;

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
    this.count += messages.length - dropped;
    if (dropped > 0) this.options.onDropped?.(dropped);
    for (const listener of this.listeners) listener();
    return ids;
  }

  /** True while row `id` waits for its PUBACK (false once acknowledged or dropped by the bound). */
  isPending(id: number): boolean {
    return this.selectId.get(id) !== undefined;
  }

  /** Up to `limit` rows with id > afterId, oldest first. */
  peek(limit: number, afterId = 0): OutboxRow[] {
    return this.selectAfter.all(afterId, limit) as OutboxRow[];
  }

  /** Deletes acknowledged rows (ids already gone, e.g. dropped by the bound, are ignored). */
  ack(ids: readonly number[]): number {
    if (ids.length === 0) return 0;
    const deleted = this.deleteBatch(ids);
    this.count -= deleted;
    return deleted;
  }

  pending(): number {
    return this.count;
  }

  /** Milliseconds since the oldest pending row was stored; 0 when empty. */
  oldestAgeMs(now = this.now()): number {
    const oldest = this.selectOldest.get() as { createdAt: number } | undefined;
    return oldest ? Math.max(0, now - oldest.createdAt) : 0;
  }

  /** Calls `listener` after each committed enqueue; returns the unsubscribe function. */
  onEnqueued(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The onDropped handler the bridge uses: counts drops in dlms_bridge_outbox_dropped_total and logs them. */
export function reportDrops(
  metrics: { outboxDroppedTotal: { inc(value: number): void } },
  log: { warn(details: object, message: string): void },
  maxRows: number,
): (count: number) => void {
  return (count) => {
    metrics.outboxDroppedTotal.inc(count);
    log.warn({ dropped: count, maxRows }, "outbox full: dropped the oldest readings (broker unreachable too long?)");
  };
}
