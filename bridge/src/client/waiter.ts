// One pending wait at a time (the client sends one request at a time): the next event the matcher accepts
// settles it, a timer bounds it, and failWith() settles it at once (socket loss, undecodable reply).

import type { Apdu } from "../dlms/apdu/types.js";
import type { HdlcParameters } from "../dlms/link.js";
import { type ClientStep, ConnectionClosedError, TimeoutError } from "./errors.js";

/** What a waiter sees: link events, with APDUs already decoded. */
export type ClientEvent =
  | { type: "connected"; params?: HdlcParameters }
  | { type: "apdu"; apdu: Apdu }
  | { type: "disconnected"; reason: "disc" | "ua" | "dm" | "frmr" };

/** Accepts an event by returning a value (not undefined/false); throwing rejects the wait with that error. */
export type EventMatcher<T> = (event: ClientEvent) => T | undefined | false;

export interface WaitSpec<T> {
  step: ClientStep;
  /** For messages: "SNRM", "GET 1.0.32.7.0.255 class 3 attr 2"... */
  what: string;
  match: EventMatcher<T>;
  /** Message of the TimeoutError (default "no answer to <what>"). */
  hint?: string;
  /** Shorter than the per-step timeout when a request deadline comes first. */
  timeoutMs?: number;
  /** Builds the error for a timeout instead of TimeoutError (e.g. a request deadline that passed). */
  timeoutError?: (seen: WaitProgress) => Error;
}

/** What arrived while a wait ran: a reply still coming in is not "no answer". */
export interface WaitProgress {
  /** Frames / wrapper PDUs received and not discarded that completed no wanted reply (e.g. segments of one). */
  frames: number;
  /** "3 bad-fcs, 1 bad-address": frames thrown away meanwhile. */
  discarded: string;
}

interface Pending {
  step: ClientStep;
  what: string;
  /** Frames discarded (bad FCS, wrong address...) while waiting: a timeout then says the line is garbled. */
  discarded: Map<string, number>;
  frames: number;
  offer(event: ClientEvent): boolean;
  fail(error: Error): void;
}

export class ReplyWaiter {
  private pending: Pending | undefined;

  constructor(private readonly timeoutMs: number) {}

  /** What is being waited for, if anything (for "discarded ... while waiting for X" messages). */
  get waitingFor(): string | undefined {
    return this.pending?.what;
  }

  /** Rejects with TimeoutError when nothing matches in time. */
  wait<T>(spec: WaitSpec<T>): Promise<T> {
    return this.start(spec, "throw") as Promise<T>;
  }

  /** Resolves undefined when nothing matches in time (for answers a meter may legitimately never send). */
  waitTolerant<T>(spec: WaitSpec<T>): Promise<T | undefined> {
    return this.start(spec, "tolerate");
  }

  /** Offers an event to the pending wait; true when it was consumed. */
  offer(event: ClientEvent): boolean {
    return this.pending?.offer(event) ?? false;
  }

  /** A received frame was thrown away while this wait runs (reason: e.g. "bad-fcs"). */
  noteDiscarded(reason: string): void {
    const d = this.pending?.discarded;
    if (d) d.set(reason, (d.get(reason) ?? 0) + 1);
  }

  /** A frame was received while this wait runs. */
  noteFrame(): void {
    if (this.pending) this.pending.frames++;
  }

  /** Rejects the pending wait (if any) with the error built for it. */
  failWith(makeError: (pending: { step: ClientStep; what: string }) => Error): void {
    const pending = this.pending;
    if (pending) pending.fail(makeError(pending));
  }

  private start<T>(spec: WaitSpec<T>, onTimeout: "throw" | "tolerate"): Promise<T | undefined> {
    const { step, what, match } = spec;
    if (this.pending) {
      return Promise.reject(new ConnectionClosedError(step, `${what} while ${this.pending.what} is still pending`));
    }
    const timeoutMs = Math.max(0, Math.min(spec.timeoutMs ?? this.timeoutMs, this.timeoutMs));
    return new Promise<T | undefined>((resolve, reject) => {
      const settle = (action: () => void) => {
        clearTimeout(timer);
        if (this.pending === pending) this.pending = undefined;
        action();
      };
      const timer = setTimeout(() => {
        if (onTimeout === "tolerate") settle(() => resolve(undefined));
        else {
          const garbled = [...pending.discarded].map(([reason, n]) => `${n} ${reason}`).join(", ");
          // A frame discarded after decoding (wrong address...) was counted as received too: count only the rest.
          let thrownAway = 0;
          for (const n of pending.discarded.values()) thrownAway += n;
          const progress: WaitProgress = { frames: Math.max(0, pending.frames - thrownAway), discarded: garbled };
          if (spec.timeoutError) {
            const error = spec.timeoutError(progress);
            settle(() => reject(error));
            return;
          }
          const seen = garbled ? `; frames discarded meanwhile: ${garbled}` : "";
          // Frames came but no reply completed: the meter is talking, so "no answer" would mislead.
          const head =
            progress.frames > 0
              ? `no complete answer to ${what}: ${progress.frames} frame(s) received meanwhile`
              : (spec.hint ?? `no answer to ${what}`);
          const message = `${head} (timeout ${timeoutMs} ms, step ${step}${seen})`;
          settle(() => reject(new TimeoutError(step, message, timeoutMs)));
        }
      }, timeoutMs);
      const pending: Pending = {
        step,
        what,
        discarded: new Map(),
        frames: 0,
        offer: (event) => {
          let value: T | undefined | false;
          try {
            value = match(event);
          } catch (error) {
            settle(() => reject(error));
            return true;
          }
          if (value === undefined || value === false) return false;
          settle(() => resolve(value));
          return true;
        },
        fail: (error) => settle(() => reject(error)),
      };
      this.pending = pending;
    });
  }
}
