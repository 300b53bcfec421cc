// Groups readings that arrive close together (≤ maxDelayMs, ≤ maxBatch) into one outbox transaction: with many
// meters polled on the same grid, one commit per reading would make the disk the bottleneck. When the disk
// refuses a commit for a passing reason (full, I/O error, locked, read-only), readings wait in memory (bounded)
// and the commit is retried, instead of being lost. Every reading it has to give up is reported once, by count
// and reason (onDropped), never one log line per reading.

import type { Reading } from "../model.js";
import { isTransientWriteError } from "../store/write-errors.js";
import { type Outbox, type OutboxMessage, telemetryMessage } from "./outbox.js";

/** Why readings accepted by the writer were given up. */
export type WriterDropReason = "memory_full" | "write_error" | "shutdown";

/** The rejection of a reading the writer gave up (already counted through onDropped: do not log it again). */
export class ReadingDroppedError extends Error {
  override name = "ReadingDroppedError";
  constructor(
    message: string,
    readonly reason: WriterDropReason,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface OutboxWriterOptions {
  maxDelayMs?: number;
  maxBatch?: number;
  /** Delay before retrying a commit that failed for a passing reason (default 1 s). */
  retryMs?: number;
  /** Readings kept in memory while commits fail; beyond it the oldest are given up (default 10,000). */
  maxWaiting?: number;
  /** A commit failed and will be retried. */
  onRetry?: (error: unknown, waiting: number) => void;
  /** A commit succeeded (the disk writes again). */
  onCommitted?: () => void;
  /** `count` readings were given up, with the error that caused it. */
  onDropped?: (count: number, reason: WriterDropReason, error: unknown) => void;
}

interface Waiting {
  message: OutboxMessage;
  resolve(id: number): void;
  reject(error: unknown): void;
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
   * or with a ReadingDroppedError if it had to be given up. Readings without values resolve at once.
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

  /** Readings accepted but not yet committed (waiting in memory). */
  get waiting(): number {
    return this.queue.length;
  }

  /** True while commits fail and readings wait in memory for a retry. */
  get blocked(): boolean {
    return this.retrying;
  }

  /** Commits everything waiting now (also cuts a pending retry delay short). */
  async flush(): Promise<void> {
    this.commitNow();
  }

  /**
   * Refuses later writes and makes one last attempt to commit what is waiting. Returns the messages the disk
   * still refused (their writes are rejected with a ReadingDroppedError "shutdown"): the caller may still hand
   * them to the broker directly, and must count those it cannot.
   */
  async close(): Promise<OutboxMessage[]> {
    this.closed = true;
    this.commitNow();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.queue.splice(0);
    const reason = new ReadingDroppedError("the disk refused the reading until shutdown", "shutdown");
    for (const w of left) w.reject(reason);
    return left.map((w) => w.message);
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
        if (isTransientWriteError(error)) {
          if (!this.closed) this.scheduleRetry(error);
          else this.options.onRetry?.(error, this.queue.length);
          return;
        }
        this.queue.splice(0, batch.length);
        this.options.onDropped?.(batch.length, "write_error", error);
        const dropped = new ReadingDroppedError(
          `outbox refused the reading: ${(error as Error).message}`,
          "write_error",
          {
            cause: error,
          },
        );
        for (const w of batch) w.reject(dropped);
        continue;
      }
      this.queue.splice(0, batch.length);
      this.options.onCommitted?.();
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
    const reason = new ReadingDroppedError(
      `outbox writer: ${this.maxWaiting} readings already wait for the disk`,
      "memory_full",
      { cause },
    );
    this.options.onDropped?.(excess, "memory_full", cause);
    for (const w of this.queue.splice(0, excess)) w.reject(reason);
  }
}
