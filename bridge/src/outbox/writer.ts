// Groups readings that arrive close together (≤ maxDelayMs, ≤ maxBatch) into one outbox transaction: with many
// meters polled on the same grid, one commit per reading would make the disk the bottleneck.
import type { Reading } from "../model.js";
import { type Outbox, type OutboxMessage, telemetryMessage } from "./outbox.js";

export interface OutboxWriterOptions {
  maxDelayMs?: number;
  maxBatch?: number;
}

interface Waiting {
  message: OutboxMessage;
  resolve(): void;
  reject(error: unknown): void;
}

export class OutboxWriter {
  private readonly maxDelayMs: number;
  private readonly maxBatch: number;
  private queue: Waiting[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(
    private readonly outbox: Outbox,
    options: OutboxWriterOptions = {},
  ) {
    this.maxDelayMs = options.maxDelayMs ?? 50;
    this.maxBatch = options.maxBatch ?? 500;
  }

  /**
   * Resolves once the reading is committed to disk; rejects at once if it cannot be published (a bad value),
   * or with the database error if its batch could not be committed. Readings without values resolve at once.
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
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ message, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.commitNow();
      else this.timer ??= setTimeout(() => this.commitNow(), this.maxDelayMs);
    });
  }

  /** Readings accepted but not yet committed. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Commits everything waiting now. */
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
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        this.outbox.enqueueMessages(batch.map((w) => w.message));
        for (const w of batch) w.resolve();
      } catch (error) {
        for (const w of batch) w.reject(error);
      }
    }
  }
}
