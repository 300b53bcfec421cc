// One pending wait at a time (the client sends one request at a time): the next event the matcher accepts
// settles it, its deadline bounds it, and failWith() settles it at once (socket loss, undecodable reply).
//
// A wait is the hot path of every request, so it costs one Promise and one small object: the deadline is a number
// checked by a single timer per waiter, armed lazily. The timer stays armed across waits (at most one setTimeout
// per timeout period while requests keep coming); when it fires early for the wait then pending, it re-arms for
// the rest. It holds the process alive only while a wait is pending.

import type { Apdu } from "../dlms/apdu/types.js";
import type { HdlcParameters } from "../dlms/link.js";
import { type ClientStep, ConnectionClosedError, TimeoutError } from "./errors.js";
import type { What } from "./what.js";

/** What a waiter sees: link events, with APDUs already decoded. */
export type ClientEvent =
  | { type: "connected"; params?: HdlcParameters }
  | { type: "apdu"; apdu: Apdu }
  | { type: "disconnected"; reason: "disc" | "ua" | "dm" | "frmr" };

/** Accepts an event by returning a value (not undefined/false); throwing rejects the wait with that error. */
export type EventMatcher<T> = (event: ClientEvent) => T | undefined | false;

export interface WaitSpec<T> {
  step: ClientStep;
  /** For messages: "SNRM", "GET 1.0.32.7.0.255 class 3 attr 2"... (text built only when a message needs it). */
  what: What;
  match: EventMatcher<T>;
  /** Message of the TimeoutError (default "no answer to <what>"). */
  hint?: string | undefined;
  /** Shorter than the per-step timeout when a request deadline comes first. */
  timeoutMs?: number | undefined;
  /** Builds the error for a timeout instead of TimeoutError (e.g. a request deadline that passed). */
  timeoutError?: ((seen: WaitProgress) => Error) | undefined;
}

/** What arrived while a wait ran: a reply still coming in is not "no answer". */
export interface WaitProgress {
  /** Frames / wrapper PDUs received and not discarded that completed no wanted reply (e.g. segments of one). */
  frames: number;
  /** "3 bad-fcs, 1 bad-address": frames thrown away meanwhile. */
  discarded: string;
}

interface Pending {
  spec: WaitSpec<unknown>;
  tolerate: boolean;
  timeoutMs: number;
  /** Date.now() value from which the wait has timed out. */
  deadline: number;
  /** Frames discarded (bad FCS, wrong address...) while waiting: a timeout then says the line is garbled. */
  discarded: Map<string, number> | undefined;
  frames: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export class ReplyWaiter {
  private pending: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Date.now() value at which the armed timer fires. */
  private timerAt = 0;
  private readonly onTimer = () => this.timerFired();

  constructor(private readonly timeoutMs: number) {}

  /** What is being waited for, if anything (for "discarded ... while waiting for X" messages). */
  get waitingFor(): string | undefined {
    return this.pending === undefined ? undefined : String(this.pending.spec.what);
  }

  /** Whether a wait is pending (without building its description). */
  get waiting(): boolean {
    return this.pending !== undefined;
  }

  /** For tests: no timer, or whether the armed one keeps the process alive ("ref") or not ("unref"). */
  get timerState(): "none" | "ref" | "unref" {
    if (this.timer === undefined) return "none";
    return this.timer.hasRef() ? "ref" : "unref";
  }

  /** Rejects with TimeoutError when nothing matches in time. */
  wait<T>(spec: WaitSpec<T>): Promise<T> {
    return this.start(spec, false) as Promise<T>;
  }

  /** Resolves undefined when nothing matches in time (for answers a meter may legitimately never send). */
  waitTolerant<T>(spec: WaitSpec<T>): Promise<T | undefined> {
    return this.start(spec, true);
  }

  /** Offers an event to the pending wait; true when it was consumed. */
  offer(event: ClientEvent): boolean {
    const pending = this.pending;
    if (pending === undefined) return false;
    let value: unknown;
    try {
      value = pending.spec.match(event);
    } catch (error) {
      this.finish();
      pending.reject(error);
      return true;
    }
    if (value === undefined || value === false) return false;
    this.finish();
    pending.resolve(value);
    return true;
  }

  /** A received frame was thrown away while this wait runs (reason: e.g. "bad-fcs"). */
  noteDiscarded(reason: string): void {
    const pending = this.pending;
    if (pending === undefined) return;
    let d = pending.discarded;
    if (d === undefined) pending.discarded = d = new Map();
    d.set(reason, (d.get(reason) ?? 0) + 1);
  }

  /** A frame was received while this wait runs. */
  noteFrame(): void {
    if (this.pending) this.pending.frames++;
  }

  /** Rejects the pending wait (if any) with the error built for it. */
  failWith(makeError: (pending: { step: ClientStep; what: What }) => Error): void {
    const pending = this.pending;
    if (pending === undefined) return;
    const error = makeError(pending.spec);
    this.finish();
    pending.reject(error);
  }

  /** Stops the timer for good (the client closed; any pending wait was failed first). */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start<T>(spec: WaitSpec<T>, tolerate: boolean): Promise<T | undefined> {
    if (this.pending) {
      const message = `${spec.what} while ${this.pending.spec.what} is still pending`;
      return Promise.reject(new ConnectionClosedError(spec.step, message));
    }
    const timeoutMs = Math.max(0, Math.min(spec.timeoutMs ?? this.timeoutMs, this.timeoutMs));
    const now = Date.now();
    const pending: Pending = {
      spec: spec as WaitSpec<unknown>,
      tolerate,
      timeoutMs,
      deadline: now + timeoutMs,
      discarded: undefined,
      frames: 0,
      resolve: unset,
      reject: unset,
    };
    creating = pending;
    const promise = new Promise<unknown>(keepSettlers);
    creating = undefined;
    this.pending = pending;
    this.arm(pending.deadline, now);
    return promise as Promise<T | undefined>;
  }

  /** Makes sure the timer fires by `deadline` and holds the process alive meanwhile. */
  private arm(deadline: number, now: number): void {
    const timer = this.timer;
    if (timer !== undefined) {
      if (this.timerAt <= deadline) {
        timer.ref(); // fires in time (maybe early: then it re-arms for the rest)
        return;
      }
      clearTimeout(timer);
    }
    this.timer = setTimeout(this.onTimer, deadline - now);
    this.timerAt = deadline;
  }

  /** The pending wait ended: an idle client must not keep a CLI process running. */
  private finish(): void {
    this.pending = undefined;
    this.timer?.unref();
  }

  private timerFired(): void {
    this.timer = undefined;
    const pending = this.pending;
    if (pending === undefined) return;
    const now = Date.now();
    // Only a wall clock set back can leave more than the whole timeout: it stretches the wait by one timeout at most.
    if (pending.deadline - now > pending.timeoutMs) pending.deadline = now + pending.timeoutMs;
    if (pending.deadline > now) this.arm(pending.deadline, now);
    else this.timeOut(pending);
  }

  private timeOut(pending: Pending): void {
    if (pending.tolerate) {
      this.finish();
      pending.resolve(undefined);
      return;
    }
    const { spec, timeoutMs } = pending;
    const { step, what } = spec;
    const discarded = pending.discarded ?? new Map<string, number>();
    const garbled = [...discarded].map(([reason, n]) => `${n} ${reason}`).join(", ");
    // A frame discarded after decoding (wrong address...) was counted as received too: count only the rest.
    let thrownAway = 0;
    for (const n of discarded.values()) thrownAway += n;
    const progress: WaitProgress = { frames: Math.max(0, pending.frames - thrownAway), discarded: garbled };
    let error: Error;
    if (spec.timeoutError) error = spec.timeoutError(progress);
    else {
      const seen = garbled ? `; frames discarded meanwhile: ${garbled}` : "";
      // Frames came but no reply completed: the meter is talking, so "no answer" would mislead.
      const head =
        progress.frames > 0
          ? `no complete answer to ${what}: ${progress.frames} frame(s) received meanwhile`
          : (spec.hint ?? `no answer to ${what}`);
      const message = `${head} (timeout ${timeoutMs} ms, step ${step}${seen})`;
      error = new TimeoutError(step, message, timeoutMs);
    }
    this.finish();
    pending.reject(error);
  }
}

/** The wait whose promise is being created: one shared executor stores resolve/reject on it, no closure per wait. */
let creating: Pending | undefined;

function keepSettlers(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  creating!.resolve = resolve;
  creating!.reject = reject;
}

function unset(): void {}
