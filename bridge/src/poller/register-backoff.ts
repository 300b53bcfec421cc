// Per-register backoff. A register that fails while other registers of the same meter are read (an object the meter
// lacks, an attribute it denies) is skipped by the next polls with a growing gap, so it does not cost a request on
// every poll; it is retried when the gap ends, and one success forgets it. Gaps: 1, 2, 4 … intervals, capped.

import type { RegisterSpec } from "../model.js";

export const DEFAULT_REGISTER_BACKOFF_MAX_MS = 3_600_000;

export interface FailingRegister {
  /** Consecutive polls in which it was read and failed. */
  failures: number;
  reason: string;
  /** Not read by polls before this time (ms since the epoch). */
  retryAt: number;
}

const NONE_FAILING: Readonly<Record<string, FailingRegister>> = Object.freeze({});

export class RegisterBackoff {
  /** Created by the first failure: an empty Map costs ≈ 0.2 kB, on every meter, for the rare meter that needs it. */
  private failing: Map<string, FailingRegister> | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly maxMs: number = DEFAULT_REGISTER_BACKOFF_MAX_MS,
  ) {}

  /** The registers a poll at `now` reads: all but those still waiting. Never empty: if all wait, all are read. */
  due(registers: readonly RegisterSpec[], now: number): readonly RegisterSpec[] {
    // Nothing backed off (the usual case): the configured list itself, so readers can key caches on it.
    const failing = this.failing;
    if (failing === undefined || failing.size === 0) return registers;
    const due = registers.filter((spec) => (failing.get(spec.key)?.retryAt ?? 0) <= now);
    return due.length > 0 ? due : [...registers];
  }

  succeeded(key: string): void {
    this.failing?.delete(key);
  }

  /** `ts` is when the poll started; the next attempt is due at the poll `gap` later (half an interval of slack). */
  failed(key: string, reason: string, ts: number): void {
    this.failing ??= new Map();
    const failures = (this.failing.get(key)?.failures ?? 0) + 1;
    const gap = Math.max(this.intervalMs, Math.min(this.maxMs, this.intervalMs * 2 ** Math.min(failures - 1, 40)));
    this.failing.set(key, { failures, reason, retryAt: ts + gap - this.intervalMs / 2 });
  }

  snapshot(): Readonly<Record<string, FailingRegister>> {
    if (this.failing === undefined || this.failing.size === 0) return NONE_FAILING; // no objects when all is well
    return Object.fromEntries([...this.failing].map(([key, state]) => [key, { ...state }]));
  }
}
