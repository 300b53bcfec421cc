// The polling engine: MeterConfig[] in, Readings and status out through PollerHooks. One MeterWorker per meter
// (own timer, own association); the only shared resource is the semaphore bounding concurrent connects.

import type { ObjectRef } from "../client/object-ref.js";
import type { MeterConfig } from "../model.js";
import type { BackoffOptions } from "./backoff.js";
import type { BreakerOptions } from "./breaker.js";
import { MeterWorker, type WorkerOptions } from "./meter-worker.js";
import { OnDemandReadError, type OnDemandResult } from "./on-demand.js";
import { Semaphore } from "./semaphore.js";
import { type Clock, type MeterRuntimeState, type PollerHooks, type SessionFactory, systemClock } from "./types.js";

export type { BackoffOptions } from "./backoff.js";
export type { BreakerOptions } from "./breaker.js";
export { OnDemandReadError, type OnDemandResult } from "./on-demand.js";
export type {
  BreakerState,
  Clock,
  MeterEventKind,
  MeterRuntimeState,
  MeterSession,
  PollerHooks,
  PollResult,
  RegisterOutcome,
  SessionFactory,
  SessionHooks,
} from "./types.js";

export interface PollerEngineOptions {
  meters: MeterConfig[];
  sessionFactory: SessionFactory;
  hooks: PollerHooks;
  maxConcurrentConnects: number;
  breaker: BreakerOptions;
  /** Reconnect backoff (full jitter). Default 1 s doubling up to 60 s. */
  backoff?: BackoffOptions;
  /** Watchdog for one session operation. Default per meter: 3 x timeoutMs x (1 + registers), as a read without
   * GET-with-list takes one request per register. */
  watchdogMs?: number;
  /** Longest idle time on an association before a keep-alive (or a release). Default 60 s, under the 120-180 s
   * inactivity timeout common on meters. */
  keepAliveMs?: number;
  /** Cap of the per-register backoff (a register failing while others are read). Default 1 h. */
  registerBackoffMaxMs?: number;
  /** How long stop() waits for operations in flight and for releases. Default 5 s. */
  stopTimeoutMs?: number;
  clock?: Clock;
  random?: () => number;
  /** A hook threw: the engine carries on; this reports it (default: console.error). */
  onHookError?: (error: unknown, hook: string) => void;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 60_000 };

export class PollerEngine {
  private readonly workers: MeterWorker[];
  private readonly connectPermits: Semaphore;
  private readonly clock: Clock;
  private readonly stopTimeoutMs: number;
  private started = false;
  private stopping: Promise<void> | undefined;

  constructor(options: PollerEngineOptions) {
    const ids = new Set<string>();
    for (const meter of options.meters) {
      if (ids.has(meter.id)) throw new Error(`duplicate meter id "${meter.id}"`);
      ids.add(meter.id);
    }
    this.clock = options.clock ?? systemClock;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.connectPermits = new Semaphore(options.maxConcurrentConnects);
    const hooks = guardHooks(options.hooks, options.onHookError ?? defaultHookError);
    // One options object per distinct watchdog (the only per-meter value), shared by the workers that have it: an
    // object per worker was ≈ 0.1 kB per meter (BENCHMARKS.md, issue 9, seventh round).
    const byWatchdog = new Map<number, WorkerOptions>();
    const workerOptions = (watchdogMs: number): WorkerOptions => {
      let shared = byWatchdog.get(watchdogMs);
      if (shared === undefined) {
        shared = {
          clock: this.clock,
          random: options.random ?? Math.random,
          hooks,
          sessionFactory: options.sessionFactory,
          connectPermits: this.connectPermits,
          breaker: options.breaker,
          backoff: options.backoff ?? DEFAULT_BACKOFF,
          watchdogMs,
          keepAliveMs: options.keepAliveMs ?? 60_000,
          ...(options.registerBackoffMaxMs === undefined ? {} : { registerBackoffMaxMs: options.registerBackoffMaxMs }),
        };
        byWatchdog.set(watchdogMs, shared);
      }
      return shared;
    };
    this.workers = options.meters.map(
      (meter) =>
        new MeterWorker(meter, workerOptions(options.watchdogMs ?? 3 * meter.timeoutMs * (1 + meter.registers.length))),
    );
  }

  start(): void {
    if (this.started) return;
    if (this.stopping) throw new Error("PollerEngine cannot be restarted after stop()");
    this.started = true;
    for (const worker of this.workers) worker.start();
  }

  /** Stops polling and releases every association; resolves within about stopTimeoutMs. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.stopWorkers();
    return this.stopping;
  }

  status(): MeterRuntimeState[] {
    return this.workers.map((worker) => worker.snapshot());
  }

  /**
   * A technician's read on a meter's live association, between its polls (see poller/on-demand.ts). `objects`
   * undefined reads the meter's configured registers. Rejects with OnDemandReadError.
   */
  readNow(meterId: string, objects: ObjectRef[] | undefined, deadlineMs: number): Promise<OnDemandResult> {
    const worker = this.workers.find((w) => w.meter.id === meterId);
    if (!worker) return Promise.reject(new OnDemandReadError("unknown-meter", `no meter '${meterId}'`));
    const list =
      objects ?? worker.meter.registers.map(({ obis, classId, attributeId }) => ({ obis, classId, attributeId }));
    return worker.readNow({ objects: list, deadlineAt: this.clock.now() + deadlineMs });
  }

  meterIds(): string[] {
    return this.workers.map((w) => w.meter.id);
  }

  private async stopWorkers(): Promise<void> {
    this.connectPermits.close();
    let timer: unknown;
    const deadline = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, this.stopTimeoutMs);
    });
    await Promise.all(this.workers.map((worker) => worker.stop(deadline)));
    this.clock.clearTimeout(timer);
  }
}

function defaultHookError(error: unknown, hook: string): void {
  console.error(`poller: hook ${hook} threw`, error);
}

const HOOK_NAMES = [
  "onReading",
  "onAttributes",
  "onMeterStatus",
  "onEvent",
  "onPoll",
  "onState",
  "onFrame",
  "onDiscarded",
] as const satisfies readonly (keyof PollerHooks)[];

/** A throwing consumer must not break a meter's loop. Works for plain objects and class instances alike. */
function guardHooks(hooks: PollerHooks, onError: (error: unknown, hook: string) => void): PollerHooks {
  const guarded: Record<string, unknown> = {};
  for (const name of HOOK_NAMES) {
    const hook = hooks[name] as ((...args: unknown[]) => void) | undefined;
    if (typeof hook !== "function") continue;
    guarded[name] = (...args: unknown[]) => {
      try {
        hook.apply(hooks, args);
      } catch (error) {
        onError(error, name);
      }
    };
  }
  return guarded as unknown as PollerHooks;
}
