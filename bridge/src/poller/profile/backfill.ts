// Load-profile backfill of one meter: on every association and then once per capture period, reads the profile rows
// after the last delivered one (bounded by `backfill`) by time windows and hands them to the outbox with their own
// timestamps, oldest first, in batches. It runs as the association's background work (poller/meter-worker.ts):
// one window per step, sized to the time left before the next scheduled poll, so live polling keeps its grid.
import { type ProfileInfo, type ProfileRowOut, readProfileInfo, readProfileRows } from "../../client/profile.js";
import type { DlmsClientApi } from "../../client/types.js";
import { defaultProfileKey } from "../../config/profiles.js";
import { DataAccessError } from "../../dlms/errors.js";
import type { MeterConfig, ProfileSpec } from "../../model.js";
import type { OutboxMessage } from "../../outbox/outbox.js";
import { type ProfileRowMessage, profilePayload, profileTopic } from "../../publish/profile-payload.js";
import type { BackgroundWork } from "../types.js";

export interface ProfileCursorStore {
  get(meter: string, profile: string): number | undefined;
  /** Outbox messages and the new cursor, in one transaction. */
  deliver(meter: string, profile: string, messages: readonly OutboxMessage[], lastTs: number): void;
}

export interface ProfileBackfillHooks {
  /** Rows handed to the outbox. */
  onRows(meter: string, profile: string, rows: number): void;
  /** Meter clock now minus the last delivered row, after each step. */
  onLag(meter: string, profile: string, lagSeconds: number): void;
  /** A run (from its first step to caught up) ended. */
  onCaughtUp(meter: string, profile: string, durationMs: number, rows: number): void;
  /** The profile cannot be read on this association (absent, no clock column...): reported, skipped until the next. */
  onProblem(meter: string, profile: string, message: string): void;
}

export interface ProfileBackfillOptions {
  cursors: ProfileCursorStore;
  hooks: ProfileBackfillHooks;
  now?: () => number;
  /** Rows per outbox message (one MQTT message, one gateway message). Default 96. */
  rowsPerMessage?: number;
}

/** What the session learnt from the meter's clock at association. */
export interface MeterClockInfo {
  /** Meter clock minus bridge clock (ms). */
  driftMs: number;
  deviationMinutes?: number;
}

const FIRST_WINDOW_ROWS = 96;
const MIN_WINDOW_ROWS = 8;
const MAX_WINDOW_ROWS = 2000;
/** Share of the time before the next poll a window is sized for: the rest absorbs a slower link or a busy host. */
const BUDGET_SHARE = 0.2;
/** Read a little after each capture instant: meters write the row at (not before) the period boundary. */
const CAPTURE_GRACE_MS = 2000;
const UNKNOWN_PERIOD_MS = 900_000;

/** Persists across associations: the cursor and the throughput estimate of each profile. */
interface ProfileState {
  spec: ProfileSpec;
  cursor: number | undefined;
  msPerRow: number | undefined;
  runStartedAt: number | undefined;
  runRows: number;
}

export class ProfileBackfill {
  private readonly states: ProfileState[];
  private readonly now: () => number;
  private readonly rowsPerMessage: number;

  constructor(
    readonly meter: Pick<MeterConfig, "id" | "profiles">,
    private readonly options: ProfileBackfillOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.rowsPerMessage = options.rowsPerMessage ?? 96;
    this.states = (meter.profiles ?? []).map((spec) => ({
      spec,
      cursor: options.cursors.get(meter.id, spec.obis),
      msPerRow: undefined,
      runStartedAt: undefined,
      runRows: 0,
    }));
  }

  get enabled(): boolean {
    return this.states.length > 0;
  }

  /** The background work of one association (a fresh one per association: it starts due at once). */
  work(client: DlmsClientApi, clock: MeterClockInfo | undefined): BackgroundWork | undefined {
    if (!this.enabled) return undefined;
    return new AssociationBackfill(this, client, clock);
  }

  /** Per profile: the meter timestamp of the last row delivered (null before the first), for /api/meters. */
  status(): { profile: string; lastRowTs: number | null }[] {
    return this.states.map((s) => ({ profile: s.spec.obis, lastRowTs: s.cursor ?? null }));
  }

  /** @internal */
  get profileStates(): readonly ProfileState[] {
    return this.states;
  }

  /** @internal */
  get clockNow(): number {
    return this.now();
  }

  /** @internal Hands rows to the outbox (batched) and moves the cursor: all in one transaction per call. */
  deliver(state: ProfileState, rows: ProfileRowMessage[]): void {
    if (rows.length === 0) return;
    const meter = this.meter.id;
    const messages: OutboxMessage[] = [];
    for (let i = 0; i < rows.length; i += this.rowsPerMessage) {
      const batch = rows.slice(i, i + this.rowsPerMessage);
      messages.push({ meter, topic: profileTopic(meter), payload: profilePayload(meter, batch) });
    }
    const lastTs = rows.at(-1)!.ts;
    this.options.cursors.deliver(meter, state.spec.obis, messages, lastTs);
    state.cursor = lastTs;
    state.runRows += rows.length;
    this.options.hooks.onRows(meter, state.spec.obis, rows.length);
  }

  /** @internal */
  get hooks(): ProfileBackfillHooks {
    return this.options.hooks;
  }
}

interface SessionProfile {
  state: ProfileState;
  info: ProfileInfo | undefined;
  /** Column index -> telemetry key (undefined: not published). */
  keys: (string | undefined)[];
  disabled: boolean;
  /** Start of the next window while catching up (meter time); undefined: from the cursor. */
  scanFrom: number | undefined;
  dueAt: number;
}

class AssociationBackfill implements BackgroundWork {
  private readonly profiles: SessionProfile[];
  private overheadMs = 250;

  constructor(
    private readonly owner: ProfileBackfill,
    private readonly client: DlmsClientApi,
    private readonly clock: MeterClockInfo | undefined,
  ) {
    const now = owner.clockNow;
    this.profiles = owner.profileStates.map((state) => ({
      state,
      info: undefined,
      keys: [],
      disabled: false,
      scanFrom: undefined,
      dueAt: now,
    }));
  }

  dueAt(): number | undefined {
    let due: number | undefined;
    for (const p of this.profiles) if (!p.disabled && (due === undefined || p.dueAt < due)) due = p.dueAt;
    return due;
  }

  minBudgetMs(): number {
    return Math.max(100, 2 * this.overheadMs);
  }

  async step(budgetMs: number): Promise<void> {
    const now = this.owner.clockNow;
    const p = this.profiles.find((q) => !q.disabled && q.dueAt <= now);
    if (!p) return;
    if (!p.info) {
      await this.describe(p);
      return;
    }
    await this.readWindow(p, p.info, budgetMs);
  }

  private async describe(p: SessionProfile): Promise<void> {
    const started = this.owner.clockNow;
    const { obis } = p.state.spec;
    let info: ProfileInfo;
    try {
      info = await readProfileInfo(this.client, obis);
    } catch (error) {
      if (!(error instanceof DataAccessError)) throw error; // link failure: the worker drops the association
      return this.disable(p, `cannot read the profile description: ${error.message}`);
    }
    this.overheadMs = Math.max(20, (this.owner.clockNow - started) / 2);
    if (info.clockColumn === undefined) return this.disable(p, "the profile captures no clock column");
    const explicit = p.state.spec.keys;
    const useDefaults = Object.keys(explicit).length === 0;
    p.keys = info.columns.map((c, i) => {
      if (i === info.clockColumn) return undefined;
      return useDefaults ? defaultProfileKey(c.capture.obis) : explicit[c.capture.obis];
    });
    if (p.keys.every((k) => k === undefined)) return this.disable(p, "no captured column maps to a telemetry key");
    p.info = info;
  }

  private disable(p: SessionProfile, message: string): void {
    p.disabled = true;
    this.owner.hooks.onProblem(this.owner.meter.id, p.state.spec.obis, message);
  }

  private async readWindow(p: SessionProfile, info: ProfileInfo, budgetMs: number): Promise<void> {
    const { state } = p;
    const started = this.owner.clockNow;
    const meterNow = started + (this.clock?.driftMs ?? 0);
    const periodMs = info.capturePeriodSeconds > 0 ? info.capturePeriodSeconds * 1000 : UNKNOWN_PERIOD_MS;
    const floor = meterNow - state.spec.backfillMs;
    const from = Math.max(p.scanFrom ?? (state.cursor === undefined ? floor : state.cursor + 1), floor);
    state.runStartedAt ??= started;

    if (from <= meterNow) {
      const rows = this.windowRows(state, budgetMs);
      const to = Math.min(from + rows * periodMs - 1, meterNow);
      const publish = (batch: ProfileRowOut[]) => this.owner.deliver(state, this.messages(p, batch, floor));
      const count = await readProfileRows(this.client, info, { kind: "range", fromMs: from, toMs: to }, publish, {
        deviationMinutes: this.clock?.deviationMinutes ?? 0,
      });
      const elapsed = this.owner.clockNow - started;
      const perRow = Math.max(
        0.05,
        (elapsed - this.overheadMs) / Math.max(count, Math.ceil((to - from) / periodMs), 1),
      );
      // A slower window counts at once, a faster one only slowly: a busy host must not make a window overrun a poll.
      state.msPerRow = state.msPerRow === undefined ? perRow : Math.max(perRow, 0.7 * state.msPerRow + 0.3 * perRow);
      if (to < meterNow) {
        p.scanFrom = to + 1;
        p.dueAt = this.owner.clockNow; // more to read: the next step as soon as the schedule allows
        this.reportLag(state, meterNow);
        return;
      }
    }
    // Caught up: next read just after the meter's next capture, from the cursor again.
    p.scanFrom = undefined;
    const sinceCapture = ((meterNow % periodMs) + periodMs) % periodMs;
    p.dueAt = this.owner.clockNow + (periodMs - sinceCapture) + CAPTURE_GRACE_MS;
    this.reportLag(state, meterNow);
    this.owner.hooks.onCaughtUp(
      this.owner.meter.id,
      state.spec.obis,
      this.owner.clockNow - state.runStartedAt,
      state.runRows,
    );
    state.runStartedAt = undefined;
    state.runRows = 0;
  }

  /** Rows per window: a fifth of the time left before the next poll, at the measured pace. */
  private windowRows(state: ProfileState, budgetMs: number): number {
    if (state.msPerRow === undefined) return FIRST_WINDOW_ROWS;
    const rows = Math.floor((budgetMs * BUDGET_SHARE - this.overheadMs) / state.msPerRow);
    return Math.min(MAX_WINDOW_ROWS, Math.max(MIN_WINDOW_ROWS, rows));
  }

  /** Rows after the cursor and inside the backfill bound, keyed; rows without a usable time or value are skipped. */
  private messages(p: SessionProfile, rows: ProfileRowOut[], floor: number): ProfileRowMessage[] {
    const out: ProfileRowMessage[] = [];
    let last = p.state.cursor ?? Number.NEGATIVE_INFINITY;
    for (const row of rows) {
      if (row.ts === undefined || row.ts <= last || row.ts < floor) continue;
      const values: Record<string, number> = {};
      row.values.forEach((v, i) => {
        const key = p.keys[i];
        if (key !== undefined && v !== undefined && Number.isFinite(v)) values[key] = v;
      });
      if (Object.keys(values).length === 0) continue;
      out.push({ ts: row.ts, values });
      last = row.ts;
    }
    return out;
  }

  private reportLag(state: ProfileState, meterNow: number): void {
    if (state.cursor === undefined) return;
    this.owner.hooks.onLag(this.owner.meter.id, state.spec.obis, Math.max(0, (meterNow - state.cursor) / 1000));
  }
}
