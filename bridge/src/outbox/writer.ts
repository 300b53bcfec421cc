// Groups readings that arrive close together (≤ maxDelayMs, ≤ maxBatch) into one outbox transaction: with many
// meters polled on the same grid, one commit per reading would make the disk the bottleneck. When the disk
// refuses a commit for a passing reason (full, I/O error, locked), readings wait in memory (bounded) and the
// commit is retried, instead of being lost.
import type { Reading } from "../model.js";
import { type Outbox, type OutboxMessage, telemetryMessage } from "./outbox.js";

export interface OutboxWriterOptions {
  maxDelayMs?: number;
  maxBatch?: number;
  /** Delay before retrying a commit that failed for a passing reason (default 1 s). */
  retryMs?: number;
  /** Readings kept in memory while commits fail; beyond it the oldest are rejected (default 10,000). */
  maxWaiting?: number;
  /** A commit failed and will be retried (log it). */
  onRetry?: (error: unknown, waiting: number) => void;
}

interface Waiting {
  message: OutboxMessage;
  resolve(id: number): void;
  reject(error: unknown): void;
}

/** SQLite result codes worth retrying: the disk may recover (space freed, lock released). */
const TRANSIENT_CODE = /^SQLITE_(FULL|IOERR|BUSY|LOCKED|CANTOPEN|PROTOCOL)/;

function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && TRANSIENT_CODE.test(code);
}

export class OutboxWriter {
  private readonly maxDelayMs: number;
  private readonly maxBatch: number;
  private readonly retryMs: number;
  private readonly maxWaiting: number;
  private queue: Waiting[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retrying = false;
  private closed = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly options: OutboxWriterOptions = {},
  ) {
    this.maxDelayMs = options.maxDelayMs ?? 50;
    this.maxBatch = options.maxBatch ?? 500;
    this.retryMs = options.retryMs ?? 1000;
    this.maxWaiting = options.maxWaiting ?? 10_000;
  }

  /**
   * Resolves once the reading is committed to disk; rejects at once if it cannot be published (a bad value),
   * or with the database error if the commit failed for good. Readings without values resolve at once.
   */
  write(reading: Reading): Promise<void> {
    if (this.closed) return Promise.reject(new Error("outbox writer is closed"));
    if (Object.keys(reading.values).length === 0) return Promise.resolve();
    let message: OutboxMessage;
    try {
      message = telemetryMessage(reading);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.writeMessage(message).then(() => undefined);
  }

  /**
   * Any outbox message (presence, attributes), in one order with the readings written before and after it.
   * Resolves with its row id once committed.
   */
  writeMessage(message: OutboxMessage): Promise<number> {
    if (this.closed) return Promise.reject(new Error("outbox writer is closed"));
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (this.retrying) this.trimToBound();
      else if (this.queue.length >= this.maxBatch) this.commitNow();
      else this.timer ??= setTimeout(() => this.commitNow(), this.maxDelayMs);
    });
  }

  /** Readings accepted but not yet committed. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Commits everything waiting now (also cuts a pending retry delay short). */
  async flush(): Promise<void> {
    this.commitNow();
  }

  /** Commits what is waiting and refuses later writes (shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    this.commitNow();
  }

  private commitNow(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.retrying = false;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.maxBatch);
      let ids: number[];
      try {
        ids = this.outbox.enqueueMessages(batch.map((w) => w.message));
      } catch (error) {
        if (isTransient(error) && !this.closed) {
          this.scheduleRetry(error);
          return;
        }
        this.queue.splice(0, batch.length);
        for (const w of batch) w.reject(error);
        continue;
      }
      this.queue.splice(0, batch.length);
      for (const [i, w] of batch.entries()) w.resolve(ids[i]!);
    }
  }

  private scheduleRetry(error: unknown): void {
    this.retrying = true;
    this.trimToBound(error);
    this.options.onRetry?.(error, this.queue.length);
    this.timer = setTimeout(() => this.commitNow(), this.retryMs);
  }

  private trimToBound(cause?: unknown): void {
    const excess = this.queue.length - this.maxWaiting;
    if (excess <= 0) return;
    const reason = new Error(`outbox writer: ${this.maxWaiting} readings already wait for the disk`, { cause });
    for (const w of this.queue.splice(0, excess)) w.reject(reason);
  }
}
