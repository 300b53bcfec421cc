// Housekeeping of the outbox file, so a full disk or a long broker outage leaves nothing behind:
// - acknowledged rows whose DELETE the disk refused are deleted as soon as it accepts (every `retryMs`);
// - after a backlog (≥ backlogRows pending, a WAL above its normal size, or a failed write) the next time the
//   outbox drains, the file is compacted: free pages go back to the file system and the WAL is truncated to 0,
//   so the space an outage took is returned instead of the WAL growing until the disk is full again.
import type { Db, DbFileSizes } from "../store/db.js";
import type { Outbox } from "./outbox.js";

export interface OutboxMaintenanceOptions {
  db: Pick<Db, "compact" | "fileSizes">;
  outbox: Pick<Outbox, "pending" | "ackedUndeleted" | "retryDeletes" | "onDrained">;
  /** A write (delete, compaction) failed: count it and tell the operator (rate-limited). */
  onWriteError(error: unknown): void;
  log: { info(details: object, message: string): void };
  /** Pending rows that count as a backlog worth compacting after (default 1000). */
  backlogRows?: number;
  /** WAL bytes above which the next drain compacts (default 8 MiB: twice the normal auto-checkpoint size). */
  walBytes?: number;
  /** Period of the checks and of the delete retries (default 1 s). */
  everyMs?: number;
}

export class OutboxMaintenance {
  private readonly backlogRows: number;
  private readonly walBytes: number;
  private dirty = false;
  private compactScheduled = false;
  private timer: ReturnType<typeof setInterval> | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: OutboxMaintenanceOptions) {
    this.backlogRows = options.backlogRows ?? 1000;
    this.walBytes = options.walBytes ?? 8 * 1024 * 1024;
  }

  start(): void {
    if (this.timer) return;
    this.unsubscribe = this.options.outbox.onDrained(() => this.onDrained());
    this.timer = setInterval(() => this.tick(), this.options.everyMs ?? 1000);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.unsubscribe?.();
  }

  /** A write failed somewhere (e.g. the disk filled): compact after the next drain. */
  noteWriteFailure(): void {
    this.dirty = true;
  }

  /** One check: retry refused deletes, note a backlog, compact if the outbox is already empty. */
  tick(): void {
    const { outbox, db } = this.options;
    if (outbox.ackedUndeleted() > 0) {
      try {
        outbox.retryDeletes();
      } catch (error) {
        this.dirty = true;
        this.options.onWriteError(error);
      }
    }
    if (outbox.pending() >= this.backlogRows || db.fileSizes().wal > this.walBytes) this.dirty = true;
    if (this.dirty && outbox.pending() === 0 && outbox.ackedUndeleted() === 0) this.compact();
  }

  private onDrained(): void {
    if (!this.dirty || this.compactScheduled) return;
    // Not inside the publisher's ack: on the next turn of the event loop.
    this.compactScheduled = true;
    setImmediate(() => {
      this.compactScheduled = false;
      if (this.dirty && this.options.outbox.pending() === 0) this.compact();
    });
  }

  /** Compacts now; returns the file sizes before and after (undefined if the disk refused). */
  compact(): { before: DbFileSizes; after: DbFileSizes } | undefined {
    const { db } = this.options;
    const before = db.fileSizes();
    try {
      db.compact();
    } catch (error) {
      this.options.onWriteError(error);
      return undefined;
    }
    this.dirty = false;
    const after = db.fileSizes();
    this.options.log.info(
      { dbBytes: [before.db, after.db], walBytes: [before.wal, after.wal] },
      "outbox drained: database file compacted and WAL truncated",
    );
    return { before, after };
  }
}
