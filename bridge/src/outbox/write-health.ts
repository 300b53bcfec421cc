// Whether the outbox can write to its disk, told once in words instead of once per failed commit: every failed
// write is counted (dlms_bridge_outbox_write_errors_total{reason}), dlms_bridge_outbox_writable goes to 0, /readyz
// names the problem, and the log gets ONE line per `logEveryMs` ("outbox cannot write: disk full at <DB_PATH>")
// with the failures since the last line, then one line when writes succeed again.
import { describeWriteError, type WriteErrorReason, writeErrorReason } from "../store/write-errors.js";

export interface WriteHealthMetrics {
  outboxWriteErrorsTotal: { inc(labels: { reason: WriteErrorReason }, value?: number): void };
  outboxWritable: { set(value: number): void };
}

export interface WriteHealthLog {
  error(details: object, message: string): void;
  info(details: object, message: string): void;
}

export interface WriteHealthOptions {
  dbPath: string;
  metrics: WriteHealthMetrics;
  log: WriteHealthLog;
  /** At most one "cannot write" line per this many ms while the problem lasts (default 60 s). */
  logEveryMs?: number;
  /** Readings waiting in memory for the disk (logged with the problem). */
  waiting?: () => number;
  now?: () => number;
}

export class OutboxWriteHealth {
  private problem: string | undefined;
  private lastLogAt = Number.NEGATIVE_INFINITY;
  private failuresSinceLog = 0;
  private readonly logEveryMs: number;
  private readonly now: () => number;

  constructor(private readonly options: WriteHealthOptions) {
    this.logEveryMs = options.logEveryMs ?? 60_000;
    this.now = options.now ?? Date.now;
    options.metrics.outboxWritable.set(1);
  }

  /** True until a write fails, and again after the next write that succeeds. */
  get writable(): boolean {
    return this.problem === undefined;
  }

  /** "outbox cannot write: disk full at /data/bridge.db" while writes fail, else undefined. */
  get message(): string | undefined {
    return this.problem === undefined ? undefined : `outbox cannot write: ${this.problem}`;
  }

  /** A write (commit, delete of acked rows, compaction, state/event store) failed with `error`. */
  failed(error: unknown): void {
    this.options.metrics.outboxWriteErrorsTotal.inc({ reason: writeErrorReason(error) });
    this.options.metrics.outboxWritable.set(0);
    const problem = describeWriteError(error, this.options.dbPath);
    const changed = problem !== this.problem;
    this.problem = problem;
    this.failuresSinceLog++;
    const now = this.now();
    if (!changed && now - this.lastLogAt < this.logEveryMs) return;
    this.options.log.error(
      {
        failedWrites: this.failuresSinceLog,
        waitingInMemory: this.options.waiting?.() ?? 0,
        nextReportInSeconds: this.logEveryMs / 1000,
      },
      `outbox cannot write: ${problem}`,
    );
    this.lastLogAt = now;
    this.failuresSinceLog = 0;
  }

  /** A write succeeded: clears the problem (logged once if there was one). */
  succeeded(): void {
    if (this.problem === undefined) return;
    this.options.metrics.outboxWritable.set(1);
    this.options.log.info(
      { was: this.problem, failedWritesSinceLastReport: this.failuresSinceLog },
      `outbox writes again at ${this.options.dbPath}`,
    );
    this.problem = undefined;
    this.failuresSinceLog = 0;
    this.lastLogAt = Number.NEGATIVE_INFINITY;
  }
}

/**
 * Calls `report(total)` at most once per `everyMs` with the sum of the counts since the last report; the first
 * count is reported at once. `flush()` reports what is left (shutdown).
 */
export function rateLimitedCounter(
  report: (total: number) => void,
  everyMs: number,
  now: () => number = Date.now,
): { add(count: number): void; flush(): void } {
  let pending = 0;
  let lastAt = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === 0) return;
    const total = pending;
    pending = 0;
    lastAt = now();
    report(total);
  };
  return {
    add(count) {
      pending += count;
      const wait = lastAt + everyMs - now();
      if (wait <= 0) flush();
      else if (timer === undefined) {
        timer = setTimeout(flush, wait);
        timer.unref();
      }
    },
    flush,
  };
}

export interface DropReportMetrics {
  outboxDroppedTotal: { inc(labels: { reason: "memory_full" | "write_error" | "shutdown" }, value: number): void };
}

/**
 * The OutboxWriter's onDropped handler: counts every reading given up in dlms_bridge_outbox_dropped_total{reason}
 * and logs at most one line per reason per `logEveryMs` (default 10 s) with the count since the last line.
 */
export function reportWriterDrops(
  metrics: DropReportMetrics,
  log: { error(details: object, message: string): void },
  options: { maxWaiting: number; problem: () => string | undefined; logEveryMs?: number },
): {
  onDropped(count: number, reason: "memory_full" | "write_error" | "shutdown", error: unknown): void;
  flush(): void;
} {
  const everyMs = options.logEveryMs ?? 10_000;
  let lastError = "";
  const limiters = {
    memory_full: rateLimitedCounter(
      (dropped) =>
        log.error(
          { dropped, maxWaiting: options.maxWaiting, perSeconds: everyMs / 1000, cause: options.problem() },
          "readings lost: the memory queue for the unwritable outbox is full",
        ),
      everyMs,
    ),
    write_error: rateLimitedCounter(
      (dropped) =>
        log.error(
          { dropped, perSeconds: everyMs / 1000, err: { message: lastError } },
          "readings lost: the outbox refused them",
        ),
      everyMs,
    ),
    shutdown: rateLimitedCounter(
      (dropped) => log.error({ dropped, cause: options.problem() }, "readings lost at shutdown: never stored"),
      0,
    ),
  };
  return {
    onDropped(count, reason, error) {
      metrics.outboxDroppedTotal.inc({ reason }, count);
      lastError = (error as Error | undefined)?.message ?? "";
      limiters[reason].add(count);
    },
    flush() {
      for (const limiter of Object.values(limiters)) limiter.flush();
    },
  };
}
