// Per-meter circuit breaker: closed -> open after N consecutive failures; open for openMs, then half-open for a
// single trial whose success closes it and whose failure reopens it. Pure: the caller passes the time.

import type { BreakerState } from "./types.js";

export interface BreakerOptions {
  failureThreshold: number;
  openMs: number;
}

export interface BreakerTransition {
  from: BreakerState;
  to: BreakerState;
}

export class CircuitBreaker {
  private current: BreakerState = "closed";
  private failures = 0;
  private reopensAt = 0;

  constructor(private readonly options: BreakerOptions) {}

  get state(): BreakerState {
    return this.current;
  }

  /** When an open breaker lets the next trial through. */
  get openUntil(): number {
    return this.reopensAt;
  }

  /** Moves open -> half-open once openMs has passed; false while an attempt is not allowed. */
  tryAttempt(now: number): { allowed: boolean; transition?: BreakerTransition } {
    if (this.current !== "open") return { allowed: true };
    if (now < this.reopensAt) return { allowed: false };
    return { allowed: true, transition: this.move("half-open") };
  }

  onSuccess(): BreakerTransition | undefined {
    this.failures = 0;
    return this.current === "closed" ? undefined : this.move("closed");
  }

  onFailure(now: number): BreakerTransition | undefined {
    this.failures++;
    const trip =
      this.current === "half-open" || (this.current === "closed" && this.failures >= this.options.failureThreshold);
    if (!trip) return undefined;
    this.reopensAt = now + this.options.openMs;
    return this.move("open");
  }

  private move(to: BreakerState): BreakerTransition {
    const transition = { from: this.current, to };
    this.current = to;
    return transition;
  }
}
