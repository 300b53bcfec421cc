// Contracts of the polling engine. The engine knows nothing of MQTT, the outbox or metrics: the composition root
// passes a PollerHooks object and wires each callback to its consumer.

import type { ObjectRef } from "../client/object-ref.js";
import type { ObjectReadingJson } from "../client/reading-json.js";
import type { MeterConfig, Reading, RegisterSpec } from "../model.js";
import type { FailingRegister } from "./register-backoff.js";

export type BreakerState = "closed" | "open" | "half-open";
export type PollResult = "ok" | "partial" | "error" | "timeout";
export type MeterEventKind =
  | "connect"
  | "disconnect"
  | "connect-failed"
  | "breaker"
  | "watchdog-restart"
  | "register-error"
  | "read-failed";

/** What the engine knows about one meter; a snapshot is passed to onState after every change. */
export interface MeterRuntimeState {
  meter: string;
  /** The last poll produced a reading. */
  up: boolean;
  /** An association is open. */
  connected: boolean;
  breaker: BreakerState;
  consecutiveFailures: number;
  lastResult?: PollResult;
  lastSuccessTs?: number;
  lastError?: string;
  lastErrorTs?: number;
  /** Grid slots that passed without a poll (overrun, backoff, open breaker). */
  skippedSlots: number;
  watchdogRestarts: number;
  /** Registers that failed while others were read, by key: skipped by polls until retryAt (per-register backoff). */
  failingRegisters?: Record<string, FailingRegister>;
}

/** A meter's state before its first poll (overrides: tests and benches set what they need). */
export function initialRuntimeState(meter: string, overrides: Partial<MeterRuntimeState> = {}): MeterRuntimeState {
  return {
    meter,
    up: false,
    connected: false,
    breaker: "closed",
    consecutiveFailures: 0,
    skippedSlots: 0,
    watchdogRestarts: 0,
    ...overrides,
  };
}

export interface PollerHooks {
  onReading(reading: Reading): void;
  /** serial_number, logical_device_name, firmware?, transport, unit_<key>: after each (re)association. */
  onAttributes(meter: string, attrs: Record<string, string | number>): void;
  /** Reachability changes only. */
  onMeterStatus(meter: string, online: boolean): void;
  /** `detail` never holds secrets. "register-error" comes once per failed key: {key, obis, reason}. */
  onEvent(meter: string, kind: MeterEventKind, detail: Record<string, unknown>): void;
  /** One call per poll attempt, including attempts that failed to connect. */
  onPoll(meter: string, result: PollResult, durationMs: number): void;
  onState(meter: string, state: MeterRuntimeState): void;
  onFrame?(meter: string, direction: "tx" | "rx", bytes: number): void;
  onDiscarded?(meter: string, reason: string): void;
}

/** `error` is the full message; `reason` a short stable name (e.g. "object-undefined") fit for a metric label. */
export type RegisterOutcome = { value: number; unit: string } | { error: string; reason?: string };

/**
 * Work done on an open association between scheduled polls (load-profile backfill). The worker runs one step at a
 * time, only when the step fits before the next poll: live polling keeps its schedule.
 */
export interface BackgroundWork {
  /** When the next step wants to run (bridge clock, ms); undefined: nothing more on this association. */
  dueAt(): number | undefined;
  /** Shortest time before the next poll worth starting a step in (ms). */
  minBudgetMs(): number;
  /** One bounded piece of work sized to `budgetMs` (the time left before the next poll). Rejects if the link failed. */
  step(budgetMs: number): Promise<void>;
}

/** One association with one meter. The engine never calls two methods of one session at once. */
export interface MeterSession {
  connect(): Promise<void>;
  /** Per key: the scaled value and unit, or the reason it failed (a data-access-result). Rejects if the link fails. */
  readRegisters(specs: readonly RegisterSpec[]): Promise<Record<string, RegisterOutcome>>;
  readAttributes(): Promise<Record<string, string | number>>;
  /** Reads arbitrary attributes for a technician (scaled, with units), one result per object, in order. */
  readObjects?(objects: ObjectRef[]): Promise<ObjectReadingJson[]>;
  /** A cheap request that keeps the association inside the meter's inactivity timeout. */
  keepAlive?(): Promise<void>;
  release(): Promise<void>;
  /** Drops the link at once; must be safe to call at any time, more than once. */
  close(): void;
  /** Background work of this association (set after connect, when the meter has load profiles to backfill). */
  readonly background?: BackgroundWork | undefined;
}

/** The engine's own hooks a session reports frames and discards to (one object for all meters; calls name the meter). */
export type SessionHooks = Pick<PollerHooks, "onFrame" | "onDiscarded">;

/** Builds a fresh session for each (re)association. */
export type SessionFactory = (meter: MeterConfig, hooks: SessionHooks) => MeterSession;

export type TimerHandle = unknown;

/** Time source and timers, injectable so tests can run the engine on a fake clock. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // Looked up on each call so vitest fake timers installed after import still apply.
  setTimeout: (callback, delayMs) => globalThis.setTimeout(callback, delayMs),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
};
