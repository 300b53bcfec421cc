// One meter's worker: a single timer and at most one operation at a time, so nothing on one association ever runs
// concurrently and the cost per meter does not depend on how many meters there are.
//
// Scheduling: `dueSlot` is the oldest grid slot not yet served. A healthy meter polls exactly at each slot; a poll
// that overruns skips the slots it covered (counted, never bunched). After a failure the worker retries with
// backoff (or waits for the breaker) and the retry serves the latest due slot.

import type { MeterConfig, Reading, RegisterSpec } from "../model.js";
import { type BackoffOptions, backoffDelayMs } from "./backoff.js";
import { type BreakerOptions, type BreakerTransition, CircuitBreaker } from "./breaker.js";
import {
  MAX_QUEUED_ON_DEMAND_READS,
  OnDemandReadError,
  type OnDemandRequest,
  type OnDemandResult,
} from "./on-demand.js";
import { RegisterBackoff } from "./register-backoff.js";
import { firstSlotAtOrAfter, latestDueSlot, phaseOffsetMs, skipTo } from "./schedule.js";
import type { Semaphore } from "./semaphore.js";
import {
  type Clock,
  initialRuntimeState,
  type MeterRuntimeState,
  type MeterSession,
  type PollerHooks,
  type PollResult,
  type RegisterOutcome,
  type SessionFactory,
  type TimerHandle,
} from "./types.js";

export interface WorkerOptions {
  clock: Clock;
  random: () => number;
  hooks: PollerHooks;
  sessionFactory: SessionFactory;
  connectPermits: Semaphore;
  breaker: BreakerOptions;
  backoff: BackoffOptions;
  /** An operation (connect, read, keep-alive, release) that has not settled after this long is abandoned. */
  watchdogMs: number;
  /** Longest idle time on an open association; beyond it the worker sends a keep-alive or releases. */
  keepAliveMs: number;
  /** Cap of the gap between attempts at a register that keeps failing while others are read. */
  registerBackoffMaxMs?: number;
}

type Operation = "connect" | "read-attributes" | "read" | "on-demand-read" | "keep-alive" | "release" | "backfill";

/** An operation outlived the watchdog: the session is presumed stuck and is replaced. */
export class WatchdogTimeout extends Error {
  override name = "WatchdogTimeout";
  constructor(
    readonly operation: Operation,
    readonly afterMs: number,
  ) {
    super(`${operation} did not settle within ${afterMs} ms`);
  }
}

/** "unit_voltage" for "voltage", built once per register key rather than on every poll. */
const unitNames = new Map<string, string>();
function unitAttributeName(key: string): string {
  let name = unitNames.get(key);
  if (name === undefined) {
    name = `unit_${key}`;
    unitNames.set(key, name);
  }
  return name;
}

class WorkerStopped extends Error {
  override name = "WorkerStopped";
}

export class MeterWorker {
  private readonly state: MeterRuntimeState;
  private readonly breaker: CircuitBreaker;
  private readonly registerBackoff: RegisterBackoff;
  private readonly phaseMs: number;
  private session: MeterSession | undefined;
  /** Attributes of the current association, re-published when a unit appears or changes. */
  private attributes: Record<string, string | number> = {};
  private attributesPublished = false;
  private timer: TimerHandle | undefined;
  private dueSlot = 0;
  private retryAt: number | undefined;
  private failedAttempts = 0;
  private lastActivityAt = 0;
  private running: Promise<void> | undefined;
  private abortOperation: ((error: Error) => void) | undefined;
  private online: boolean | undefined;
  private stopped = false;
  private readonly onDemand: {
    request: OnDemandRequest;
    resolve(result: OnDemandResult): void;
    reject(error: OnDemandReadError): void;
  }[] = [];

  constructor(
    readonly meter: MeterConfig,
    private readonly options: WorkerOptions,
  ) {
    this.breaker = new CircuitBreaker(options.breaker);
    this.registerBackoff = new RegisterBackoff(meter.intervalMs, options.registerBackoffMaxMs);
    this.phaseMs = phaseOffsetMs(meter.id, meter.intervalMs);
    this.state = initialRuntimeState(meter.id);
  }

  start(): void {
    this.dueSlot = firstSlotAtOrAfter(this.options.clock.now(), this.meter.intervalMs, this.phaseMs);
    this.arm();
  }

  snapshot(): MeterRuntimeState {
    return { ...this.state, failingRegisters: this.registerBackoff.snapshot() };
  }

  /**
   * Stops scheduling, lets an operation in flight finish until `deadline`, then releases the association
   * (RLRQ/DISC) until `deadline`, and finally drops the link.
   */
  async stop(deadline: Promise<void>): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    for (const queued of this.onDemand.splice(0)) {
      queued.reject(new OnDemandReadError("unavailable", "the bridge is stopping", this.snapshot()));
    }
    const settled = this.running
      ? await Promise.race([this.running.then(() => true), deadline.then(() => false)])
      : true;
    if (!settled) this.abortOperation?.(new WorkerStopped("stopped"));
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    // A session still busy with an abandoned operation is not asked for anything more: it is just dropped.
    if (settled) await Promise.race([attempt(() => session.release()).catch(() => undefined), deadline]);
    session.close();
    this.markDisconnected("stopped");
    this.emitState();
  }

  private arm(): void {
    if (this.stopped) return;
    const delay = Math.max(0, this.nextActionAt() - this.options.clock.now());
    this.timer = this.options.clock.setTimeout(() => this.fire(), delay);
  }

  private nextActionAt({ background = true } = {}): number {
    if (this.breaker.state === "open") return this.breaker.openUntil;
    if (this.retryAt !== undefined) return this.retryAt;
    if (this.session) {
      const keepAliveAt = this.lastActivityAt + this.options.keepAliveMs;
      const backgroundAt = background ? this.backgroundStartAt(this.options.clock.now()) : undefined;
      return Math.min(this.dueSlot, keepAliveAt, backgroundAt ?? keepAliveAt);
    }
    return this.dueSlot;
  }

  private fire(): void {
    this.timer = undefined;
    this.running = this.act()
      .catch((error) => {
        if (error instanceof WorkerStopped) return;
        // A bug, not a meter problem: report it and back off rather than spin on a slot that is still due.
        this.emit("read-failed", { operation: "worker", error: describe(error) });
        this.recordFailure(describe(error), { retry: true });
      })
      .finally(() => this.afterOperation());
  }

  /**
   * Queues a technician's read on this meter's live association: it runs when the operation in flight (a poll)
   * has finished, never alongside one. Rejects with OnDemandReadError when there is no live association.
   */
  readNow(request: OnDemandRequest): Promise<OnDemandResult> {
    const refused = this.refusal();
    if (refused) return Promise.reject(refused);
    if (this.onDemand.length >= MAX_QUEUED_ON_DEMAND_READS) {
      const message = `${this.onDemand.length} reads already wait for meter '${this.meter.id}'; try again later`;
      return Promise.reject(new OnDemandReadError("busy", message, this.snapshot()));
    }
    return new Promise<OnDemandResult>((resolve, reject) => {
      this.onDemand.push({ request, resolve, reject });
      this.serveQueued();
    });
  }

  /** Why an on-demand read cannot run now (no live association), or undefined. */
  private refusal(): OnDemandReadError | undefined {
    const id = this.meter.id;
    if (this.stopped) return new OnDemandReadError("unavailable", "the bridge is stopping", this.snapshot());
    if (this.breaker.state === "open") {
      const until = new Date(this.breaker.openUntil).toISOString();
      return new OnDemandReadError(
        "unavailable",
        `meter '${id}' is offline (breaker open until ${until})`,
        this.snapshot(),
      );
    }
    if (!this.session && !this.running) {
      return new OnDemandReadError("unavailable", `meter '${id}' has no live association`, this.snapshot());
    }
    return undefined;
  }

  /** After every operation: a due poll goes first, then one queued on-demand read, then background work. */
  private afterOperation(): void {
    this.running = undefined;
    this.emitState();
    if (this.stopped) return;
    if (this.nextActionAt({ background: false }) > this.options.clock.now()) this.serveQueued();
    if (!this.running) this.arm();
  }

  /** Starts the next queued on-demand read if nothing runs; the poll timer waits until it is done. */
  private serveQueued(): void {
    if (this.running || this.stopped) return;
    const queued = this.onDemand.shift();
    if (!queued) return;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.serveOnDemand(queued.request)
      .then(queued.resolve, queued.reject)
      .finally(() => this.afterOperation());
  }

  private async serveOnDemand(request: OnDemandRequest): Promise<OnDemandResult> {
    const { clock } = this.options;
    const id = this.meter.id;
    const ts = clock.now();
    if (ts >= request.deadlineAt) {
      throw new OnDemandReadError("busy", `meter '${id}' was busy until the read's deadline`, this.snapshot());
    }
    const refused = this.refusal();
    if (refused) throw refused;
    const session = this.session;
    if (!session?.readObjects) {
      throw new OnDemandReadError("unavailable", `meter '${id}' has no live association`, this.snapshot());
    }
    try {
      const objects = await this.guard(
        "on-demand-read",
        () => session.readObjects!(request.objects),
        request.deadlineAt - ts,
      );
      this.lastActivityAt = clock.now();
      return { meter: id, ts, objects };
    } catch (error) {
      if (this.stopped) throw new OnDemandReadError("unavailable", "the bridge is stopping", this.snapshot());
      // The association is in an unknown state: drop it; the next poll reconnects and counts what it finds.
      this.emit("read-failed", { operation: "on-demand-read", error: describe(error) });
      this.dropSession("on-demand read failed");
      const timeout = error instanceof WatchdogTimeout || isTimeout(error);
      throw new OnDemandReadError(timeout ? "timeout" : "failed", `meter '${id}': ${describe(error)}`, this.snapshot());
    }
  }

  private async act(): Promise<void> {
    const now = this.options.clock.now();
    if (this.session && this.retryAt === undefined && now < this.dueSlot) {
      const background = this.session.background;
      const startAt = this.backgroundStartAt(now);
      if (background && startAt !== undefined && startAt <= now) return this.runBackground(background, now);
      if (now >= this.lastActivityAt + this.options.keepAliveMs) return this.keepAlive();
      return;
    }

    const gate = this.breaker.tryAttempt(now);
    if (gate.transition) this.onBreakerTransition(gate.transition);
    if (!gate.allowed) return;
    this.retryAt = undefined;
    if (now >= this.dueSlot) {
      const due = latestDueSlot(this.dueSlot, this.meter.intervalMs, now);
      this.dueSlot = due.slot;
      this.state.skippedSlots += due.skipped;
    }
    if (!this.session && !(await this.connect(now))) return;
    if (!this.stopped) await this.poll(now);
  }

  /** Opens a new association; false if it failed (already reported and counted). */
  private async connect(attemptStartedAt: number): Promise<boolean> {
    const permit = await this.options.connectPermits.acquire().catch(() => undefined);
    if (!permit) return false; // the engine is stopping
    if (this.stopped) {
      permit.release();
      return false;
    }
    const { clock } = this.options;
    const connectStartedAt = clock.now();
    let session: MeterSession;
    try {
      session = this.options.sessionFactory(this.meter, this.options.hooks);
      this.session = session;
      await this.guard("connect", () => session.connect());
    } catch (error) {
      permit.release();
      if (!this.stopped) this.linkFailed("connect", error, attemptStartedAt);
      return false;
    }
    permit.release();
    if (this.stopped) return false;

    this.state.connected = true;
    this.lastActivityAt = clock.now();
    this.emit("connect", { durationMs: clock.now() - connectStartedAt });
    this.setOnline(true);
    this.attributes = { transport: this.meter.transport };
    this.attributesPublished = false;
    try {
      Object.assign(this.attributes, await this.guard("read-attributes", () => session.readAttributes()));
    } catch (error) {
      if (!this.stopped) this.linkFailed("read-attributes", error, attemptStartedAt);
      return false;
    }
    return true;
  }

  private async poll(attemptStartedAt: number): Promise<void> {
    const session = this.session;
    if (!session) return;
    const { clock } = this.options;
    const ts = clock.now();
    const registers = this.registerBackoff.due(this.meter.registers, ts);
    let outcomes: Record<string, RegisterOutcome>;
    try {
      outcomes = await this.guard("read", () => session.readRegisters(registers));
    } catch (error) {
      if (!this.stopped) this.linkFailed("read", error, attemptStartedAt);
      return;
    }
    const now = clock.now();
    this.lastActivityAt = now;

    const { reading, failures } = this.toReading(ts, registers, outcomes);
    this.publishAttributes(reading.units ?? {});
    const hasValues = failures.length < registers.length;
    if (hasValues) this.options.hooks.onReading(reading);
    const result: PollResult = !hasValues ? "error" : failures.length > 0 ? "partial" : "ok";
    this.options.hooks.onPoll(this.meter.id, result, now - attemptStartedAt);
    this.state.lastResult = result;
    if (hasValues) {
      // The meter answers: a register it cannot give is its own problem (backed off), not the meter's.
      for (const spec of registers) {
        const failure = failures.find((f) => f.key === spec.key);
        if (failure) this.registerBackoff.failed(spec.key, failure.reason, ts);
        else this.registerBackoff.succeeded(spec.key);
      }
      this.recordSuccess(ts);
      if (failures.length > 0) {
        this.state.lastError = `partial reading: ${failures.map((f) => `${f.key} (${f.obis}) ${f.error}`).join("; ")}`;
        this.state.lastErrorTs = now;
      }
    } else {
      const detail = failures.map((f) => `${f.key} ${f.reason}`).join(", ");
      this.recordFailure(`no register could be read${detail ? ` (${detail})` : ""}`, { retry: false });
    }

    // The slot is served either way (the meter answered); the next poll waits for the grid.
    const next = skipTo(this.dueSlot + this.meter.intervalMs, this.meter.intervalMs, now);
    this.dueSlot = next.slot;
    this.state.skippedSlots += next.skipped;
  }

  private toReading(
    ts: number,
    registers: readonly RegisterSpec[],
    outcomes: Record<string, RegisterOutcome>,
  ): { reading: Reading; failures: { key: string; obis: string; reason: string; error: string }[] } {
    const values: Record<string, number> = {};
    const units: Record<string, string> = {};
    const errors: Record<string, string> = {};
    const failures: { key: string; obis: string; reason: string; error: string }[] = [];
    for (const spec of registers) {
      const outcome = outcomes[spec.key] ?? { error: "no result", reason: "no-result" };
      if ("error" in outcome) {
        const reason = outcome.reason ?? outcome.error;
        errors[spec.key] = reason;
        failures.push({ key: spec.key, obis: spec.obis, reason, error: outcome.error });
        this.emit("register-error", { key: spec.key, obis: spec.obis, reason, error: outcome.error });
      } else {
        values[spec.key] = outcome.value;
        units[spec.key] = outcome.unit;
      }
    }
    const reading: Reading = { meter: this.meter.id, ts, values, units };
    if (Object.keys(errors).length > 0) reading.errors = errors;
    return { reading, failures };
  }

  /**
   * When the session's background work (profile backfill) may run its next step: when it is due and enough time
   * is left before the next poll; undefined when it may not run before that poll.
   */
  private backgroundStartAt(now: number): number | undefined {
    const work = this.session?.background;
    if (!work || this.retryAt !== undefined) return undefined;
    const due = work.dueAt();
    if (due === undefined) return undefined;
    const at = Math.max(due, now);
    return this.dueSlot - at >= work.minBudgetMs() ? at : undefined;
  }

  /** One background step, sized to the time left before the next poll (and under the watchdog). */
  private async runBackground(work: NonNullable<MeterSession["background"]>, now: number): Promise<void> {
    const budget = Math.min(this.dueSlot - now, this.options.watchdogMs / 2);
    try {
      await this.guard("backfill", () => work.step(budget));
      this.lastActivityAt = this.options.clock.now();
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof WatchdogTimeout) this.countWatchdog(error);
      // The link is in doubt: drop it; the next scheduled poll reconnects and the backfill resumes from its cursor.
      this.emit("read-failed", { operation: "backfill", error: describe(error) });
      this.dropSession("backfill failed");
    }
  }

  private async keepAlive(): Promise<void> {
    const session = this.session;
    if (!session) return;
    if (!session.keepAlive) {
      // No cheap request available: release now and reconnect at the next slot.
      await this.guard("release", () => session.release()).catch(() => undefined);
      this.dropSession("idle");
      return;
    }
    try {
      await this.guard("keep-alive", () => session.keepAlive?.() ?? Promise.resolve());
      this.lastActivityAt = this.options.clock.now();
    } catch (error) {
      if (this.stopped) return;
      if (error instanceof WatchdogTimeout) this.countWatchdog(error);
      this.emit("read-failed", { operation: "keep-alive", error: describe(error) });
      this.dropSession("keep-alive failed");
    }
  }

  /** The association failed (rejection, per-step timeout or watchdog): drop it, count it, schedule a retry. */
  private linkFailed(operation: Operation, error: unknown, attemptStartedAt: number): void {
    const { clock, hooks } = this.options;
    if (error instanceof WatchdogTimeout) this.countWatchdog(error);
    const message = describe(error);
    this.emit(operation === "connect" ? "connect-failed" : "read-failed", { operation, error: message });
    this.dropSession(`${operation} failed`);
    if (operation === "connect") this.setOnline(false);
    const result: PollResult = isTimeout(error) ? "timeout" : "error";
    hooks.onPoll(this.meter.id, result, clock.now() - attemptStartedAt);
    this.state.lastResult = result;
    this.recordFailure(message, { retry: true });
  }

  private countWatchdog(error: WatchdogTimeout): void {
    this.state.watchdogRestarts++;
    this.emit("watchdog-restart", { operation: error.operation, afterMs: error.afterMs });
  }

  private recordSuccess(ts: number): void {
    this.failedAttempts = 0;
    this.retryAt = undefined;
    this.state.up = true;
    this.state.consecutiveFailures = 0;
    this.state.lastSuccessTs = ts;
    const transition = this.breaker.onSuccess();
    if (transition) this.onBreakerTransition(transition);
  }

  private recordFailure(message: string, { retry }: { retry: boolean }): void {
    const now = this.options.clock.now();
    this.state.up = false;
    this.state.consecutiveFailures++;
    this.state.lastError = message;
    this.state.lastErrorTs = now;
    const transition = this.breaker.onFailure(now);
    if (transition) {
      this.onBreakerTransition(transition);
      this.retryAt = undefined;
      this.dropSession("breaker open");
      this.setOnline(false);
    } else if (retry) {
      this.retryAt = now + backoffDelayMs(this.failedAttempts, this.options.backoff, this.options.random);
    }
    this.failedAttempts++;
  }

  private onBreakerTransition(transition: BreakerTransition): void {
    this.state.breaker = transition.to;
    const detail: Record<string, unknown> = { ...transition, consecutiveFailures: this.state.consecutiveFailures };
    if (transition.to === "open") detail.openUntil = this.breaker.openUntil;
    this.emit("breaker", detail);
  }

  private publishAttributes(units: Record<string, string>): void {
    let changed = !this.attributesPublished;
    for (const key in units) {
      const name = unitAttributeName(key);
      if (this.attributes[name] === units[key]) continue;
      this.attributes[name] = units[key]!;
      changed = true;
    }
    if (!changed) return;
    this.attributesPublished = true;
    this.options.hooks.onAttributes(this.meter.id, { ...this.attributes });
  }

  private dropSession(reason: string): void {
    const session = this.session;
    if (!session) return;
    this.session = undefined;
    session.close();
    this.markDisconnected(reason);
  }

  private markDisconnected(reason: string): void {
    if (!this.state.connected) return;
    this.state.connected = false;
    this.emit("disconnect", { reason });
  }

  private setOnline(online: boolean): void {
    if (this.online === online) return;
    this.online = online;
    this.options.hooks.onMeterStatus(this.meter.id, online);
  }

  private emit(kind: Parameters<PollerHooks["onEvent"]>[1], detail: Record<string, unknown>): void {
    this.options.hooks.onEvent(this.meter.id, kind, detail);
  }

  private emitState(): void {
    this.options.hooks.onState(this.meter.id, this.snapshot());
  }

  /** Runs one session operation under the watchdog (or a shorter deadline); stop() can abort it too. */
  private guard<T>(operation: Operation, run: () => Promise<T>, limitMs?: number): Promise<T> {
    const { clock } = this.options;
    const watchdogMs = Math.min(this.options.watchdogMs, limitMs ?? Number.POSITIVE_INFINITY);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (finish: () => void) => {
        if (settled) return; // an abandoned operation settling late must not touch its successor
        settled = true;
        clock.clearTimeout(timer);
        if (this.abortOperation === abort) this.abortOperation = undefined;
        finish();
      };
      const abort = (error: Error) => settle(() => reject(error));
      const timer = clock.setTimeout(
        () => settle(() => reject(new WatchdogTimeout(operation, watchdogMs))),
        watchdogMs,
      );
      this.abortOperation = abort;
      attempt(run).then(
        (value) => settle(() => resolve(value)),
        (error) => settle(() => reject(error)),
      );
    });
  }
}

function attempt<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}

function describe(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== "Error" ? `${error.name}: ${error.message}` : error.message;
  return String(error);
}

/** Per-step timeouts of the client (TimeoutError), of the transport (kind "timeout") and the watchdog. */
function isTimeout(error: unknown): boolean {
  if (error instanceof WatchdogTimeout) return true;
  if (typeof error !== "object" || error === null) return false;
  const { name, kind } = error as { name?: unknown; kind?: unknown };
  return name === "TimeoutError" || kind === "timeout";
}
