// Which meters' rows in the `meters` table are worth rewriting at a flush. A breaker, failure count or error that
// changed is written at the next flush; a meter that only keeps succeeding (new last-success time, nothing else)
// at most every `refreshMs`. Writing every polled meter every few seconds cost 5,000 UPDATEs per flush at 10,000
// meters, and kept each state snapshot alive until then (old-generation garbage: RSS). The engine keeps the live
// state; this keeps four fields per meter, updated in place.

import type { MeterRuntimeState } from "../poller/types.js";
import type { MeterStateUpdate } from "./meters.js";

/** Default gap between rewrites of a meter whose only change is its last-success time. */
export const DEFAULT_STATE_REFRESH_MS = 60_000;

interface Tracked {
  consecutiveFailures: number;
  breaker: MeterRuntimeState["breaker"];
  lastSuccessTs: number | undefined;
  lastError: string | undefined;
  /** Breaker, failures or error changed since the last write. */
  changed: boolean;
  /** Anything (e.g. only the last-success time) changed since the last write. */
  dirty: boolean;
  writtenAt: number;
}

export class MeterStateFlush {
  private readonly meters = new Map<string, Tracked>();

  constructor(private readonly refreshMs = DEFAULT_STATE_REFRESH_MS) {}

  /** Records the meter's latest state (called on every state change; keeps no reference to `state`). */
  note(state: MeterRuntimeState): void {
    const t = this.meters.get(state.meter);
    if (!t) {
      this.meters.set(state.meter, {
        consecutiveFailures: state.consecutiveFailures,
        breaker: state.breaker,
        lastSuccessTs: state.lastSuccessTs,
        lastError: state.lastError,
        changed: true,
        dirty: true,
        writtenAt: Number.NEGATIVE_INFINITY,
      });
      return;
    }
    if (
      t.consecutiveFailures !== state.consecutiveFailures ||
      t.breaker !== state.breaker ||
      t.lastError !== state.lastError
    ) {
      t.changed = true;
    }
    if (t.changed || t.lastSuccessTs !== state.lastSuccessTs) t.dirty = true;
    t.consecutiveFailures = state.consecutiveFailures;
    t.breaker = state.breaker;
    t.lastSuccessTs = state.lastSuccessTs;
    t.lastError = state.lastError;
  }

  /**
   * The rows to write now (marked written): changed ones, and merely refreshed ones once `refreshMs` has passed
   * since their last write; with `all` (shutdown) every meter with anything unwritten.
   */
  take(now: number, all = false): { id: string; state: MeterStateUpdate }[] {
    const out: { id: string; state: MeterStateUpdate }[] = [];
    for (const [id, t] of this.meters) {
      if (!t.dirty) continue;
      if (!t.changed && !all && now - t.writtenAt < this.refreshMs) continue;
      out.push({
        id,
        state: {
          consecutiveFailures: t.consecutiveFailures,
          breakerState: t.breaker,
          ...(t.lastSuccessTs !== undefined ? { lastSuccess: t.lastSuccessTs } : {}),
          ...(t.lastError !== undefined ? { lastError: t.lastError } : {}),
        },
      });
      t.changed = t.dirty = false;
      t.writtenAt = now;
    }
    return out;
  }

  /** A write of `rows` failed: they are written again at the next flush. */
  retry(rows: readonly { id: string }[]): void {
    for (const { id } of rows) {
      const t = this.meters.get(id);
      if (t) t.changed = t.dirty = true;
    }
  }
}
