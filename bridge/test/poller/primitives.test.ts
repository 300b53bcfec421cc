import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelayMs } from "../../src/poller/backoff.js";
import { CircuitBreaker } from "../../src/poller/breaker.js";
import { firstSlotAtOrAfter, latestDueSlot, phaseOffsetMs, skipTo } from "../../src/poller/schedule.js";
import { Semaphore } from "../../src/poller/semaphore.js";

describe("schedule", () => {
  it("puts every slot on the meter's grid, at or after the given time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 42 }),
        fc.integer({ min: 1, max: 3_600_000 }),
        fc.string(),
        (now, interval, id) => {
          const phase = phaseOffsetMs(id, interval);
          const slot = firstSlotAtOrAfter(now, interval, phase);
          expect(phase).toBeGreaterThanOrEqual(0);
          expect(phase).toBeLessThan(interval);
          expect(slot).toBeGreaterThanOrEqual(now);
          expect(slot - interval).toBeLessThan(now);
          expect((((slot - phase) % interval) + interval) % interval).toBe(0);
        },
      ),
    );
  });

  it("spreads the phases of many meters over the interval", () => {
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(phaseOffsetMs(`meter-${i}`, 10_000) / 1_000)]++;
    // Uniform would be 1,000 per bucket; a clumping hash puts thousands of meters into one second.
    for (const count of buckets) expect(count).toBeGreaterThan(800);
  });

  it("skips whole slots that passed, counting them", () => {
    expect(skipTo(100, 10, 95)).toEqual({ slot: 100, skipped: 0 });
    expect(skipTo(100, 10, 100)).toEqual({ slot: 100, skipped: 0 });
    expect(skipTo(100, 10, 101)).toEqual({ slot: 110, skipped: 1 });
    expect(skipTo(100, 10, 125)).toEqual({ slot: 130, skipped: 3 });
    expect(latestDueSlot(100, 10, 109)).toEqual({ slot: 100, skipped: 0 });
    expect(latestDueSlot(100, 10, 125)).toEqual({ slot: 120, skipped: 2 });
  });
});

describe("backoffDelayMs", () => {
  const options = { baseMs: 1_000, maxMs: 60_000 };

  it("doubles the ceiling per attempt up to the maximum, with full jitter below it", () => {
    const nearOne = () => 0.999_999;
    expect(backoffDelayMs(0, options, nearOne)).toBe(999);
    expect(backoffDelayMs(3, options, nearOne)).toBe(7_999);
    expect(backoffDelayMs(10, options, nearOne)).toBe(59_999);
    expect(backoffDelayMs(5_000, options, nearOne)).toBe(59_999);
    expect(backoffDelayMs(10, options, () => 0)).toBe(0);
    expect(backoffDelayMs(2, options, () => 0.5)).toBe(2_000);
  });
});

describe("CircuitBreaker", () => {
  it("opens after N consecutive failures, lets one trial through after openMs, and closes on its success", () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, openMs: 1_000 });
    expect(breaker.onFailure(0)).toBeUndefined();
    breaker.onSuccess(); // resets the count
    expect(breaker.onFailure(1)).toBeUndefined();
    expect(breaker.onFailure(2)).toBeUndefined();
    expect(breaker.onFailure(3)).toEqual({ from: "closed", to: "open" });
    expect(breaker.tryAttempt(1_002)).toEqual({ allowed: false });
    expect(breaker.tryAttempt(1_003)).toEqual({ allowed: true, transition: { from: "open", to: "half-open" } });
    expect(breaker.onSuccess()).toEqual({ from: "half-open", to: "closed" });
    expect(breaker.state).toBe("closed");
  });

  it("reopens for another openMs when the half-open trial fails", () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, openMs: 1_000 });
    breaker.onFailure(0);
    breaker.tryAttempt(1_000);
    expect(breaker.onFailure(1_500)).toEqual({ from: "half-open", to: "open" });
    expect(breaker.openUntil).toBe(2_500);
    expect(breaker.tryAttempt(2_499).allowed).toBe(false);
  });
});

describe("Semaphore", () => {
  it("grants at most `capacity` permits and hands released ones to waiters in order", async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    const permits = await Promise.all([semaphore.acquire(), semaphore.acquire()]);
    const waiting = [3, 4].map(async (n) => {
      const permit = await semaphore.acquire();
      order.push(n);
      return permit;
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(semaphore.waiting).toBe(2);
    permits[0]?.release();
    permits[0]?.release(); // idempotent: must not free a second slot
    const third = await waiting[0];
    expect(order).toEqual([3]);
    expect(semaphore.inUse).toBe(2);
    permits[1]?.release();
    (await waiting[1])?.release();
    third?.release();
    expect(semaphore.inUse).toBe(0);
  });

  it("rejects waiters and later acquires once closed", async () => {
    const semaphore = new Semaphore(1);
    await semaphore.acquire();
    const waiter = semaphore.acquire();
    semaphore.close();
    await expect(waiter).rejects.toThrow(/closed/);
    await expect(semaphore.acquire()).rejects.toThrow(/closed/);
  });
});
