// The worker's background work (load-profile backfill) on fake timers: steps run only between polls, each with the
// time left before the next poll as its budget, never when less than minBudgetMs is left, one operation at a time;
// polls keep their exact grid; a failing step drops the association and the next poll reconnects.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PollerEngine } from "../../src/poller/engine.js";
import { phaseOffsetMs } from "../../src/poller/schedule.js";
import type { BackgroundWork, MeterSession } from "../../src/poller/types.js";
import { allValues, FakeMeter, meterConfig, RecordingHooks } from "./fakes.js";

const T0 = 1_700_000_000_000;
const INTERVAL = 10_000;
let engine: PollerEngine | undefined;

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(async () => {
  const stopping = engine?.stop();
  await vi.runOnlyPendingTimersAsync();
  await stopping;
  engine = undefined;
  vi.useRealTimers();
});

interface Step {
  at: number;
  budget: number;
}

/** Always due; each step takes `stepMs` but at most a fifth of its budget (as the backfill sizes its windows). */
function backlog(stepMs: number, steps: Step[], options: { minBudgetMs?: number; failAt?: number } = {}) {
  let inFlight = 0;
  let maxInFlight = 0;
  const work: BackgroundWork = {
    dueAt: () => Date.now(),
    minBudgetMs: () => options.minBudgetMs ?? 100,
    async step(budget) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      steps.push({ at: Date.now(), budget });
      await new Promise((r) => setTimeout(r, Math.min(stepMs, Math.floor(budget / 5))));
      inFlight--;
      if (options.failAt !== undefined && steps.length === options.failAt) throw new Error("link lost mid-window");
    },
  };
  return { work, maxInFlight: () => maxInFlight };
}

function start(meter: FakeMeter, work: () => BackgroundWork | undefined): RecordingHooks {
  const hooks = new RecordingHooks();
  engine = new PollerEngine({
    meters: [meterConfig("a", { intervalMs: INTERVAL })],
    sessionFactory: () => {
      const session = meter.open() as MeterSession & { background?: BackgroundWork };
      return Object.assign(session, { background: work() });
    },
    hooks,
    maxConcurrentConnects: 1,
    breaker: { failureThreshold: 5, openMs: 60_000 },
    random: () => 0.5,
  });
  engine.start();
  return hooks;
}

const phase = phaseOffsetMs("a", INTERVAL);
const slotOf = (t: number) => Math.floor((t - phase) / INTERVAL);

describe("MeterWorker background work", () => {
  it("runs steps between polls within the time left, and polls keep their exact grid", async () => {
    const steps: Step[] = [];
    const b = backlog(1_500, steps);
    const hooks = start(new FakeMeter({ read: async (_n, specs) => allValues(specs) }), () => b.work);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);

    const readings = hooks.readingsOf("a");
    expect(readings).toHaveLength(10);
    expect(readings.map((r) => (r.ts - phase) % INTERVAL)).toEqual(new Array(10).fill(0)); // on the grid, never late
    expect(hooks.states.get("a")?.skippedSlots).toBe(0);
    expect(steps.length).toBeGreaterThan(30);
    for (const s of steps) {
      const nextPoll = (slotOf(s.at) + 1) * INTERVAL + phase;
      // The time left before the next poll, at most half the watchdog (3 x timeout 1 s x (1 + 3 registers) / 2).
      expect(s.budget).toBe(Math.min(nextPoll - s.at, 6_000));
    }
    expect(b.maxInFlight()).toBe(1);
  });

  it("starts no step with less than minBudgetMs before the next poll", async () => {
    const steps: Step[] = [];
    const b = backlog(3_000, steps, { minBudgetMs: 4_000 });
    const hooks = start(new FakeMeter(), () => b.work);
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.every((s) => s.budget >= 4_000)).toBe(true);
    expect(hooks.readingsOf("a").map((r) => (r.ts - phase) % INTERVAL)).toEqual(new Array(5).fill(0));
  });

  it("a failing step drops the association; the next poll reconnects and the work resumes", async () => {
    const steps: Step[] = [];
    const meter = new FakeMeter();
    const hooks = start(meter, () => backlog(1_000, steps, { failAt: 2 }).work);
    await vi.advanceTimersByTimeAsync(4 * INTERVAL);
    expect(hooks.eventsOf("a", "read-failed").map((e) => e.detail.operation)).toEqual(["backfill"]);
    expect(meter.sessions.length).toBe(2);
    expect(hooks.readingsOf("a")).toHaveLength(4);
    expect(steps.length).toBeGreaterThan(2);
  });
});
