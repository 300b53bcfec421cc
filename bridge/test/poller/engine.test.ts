import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { MeterConfig } from "../../src/model.js";
import { PollerEngine, type PollerEngineOptions } from "../../src/poller/engine.js";
import { phaseOffsetMs } from "../../src/poller/schedule.js";
import {
  allValues,
  delay,
  FakeMeter,
  fakeFactory,
  hang,
  meterConfig,
  REGISTERS,
  RecordingHooks,
  UNITS,
} from "./fakes.js";

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

function run(
  meters: Record<string, FakeMeter>,
  configs: MeterConfig[],
  options: Partial<PollerEngineOptions> = {},
): RecordingHooks {
  const hooks = new RecordingHooks();
  engine = new PollerEngine({
    meters: configs,
    sessionFactory: fakeFactory(meters),
    hooks,
    maxConcurrentConnects: 4,
    breaker: { failureThreshold: 5, openMs: 60_000 },
    backoff: { baseMs: 1_000, maxMs: 8_000 },
    random: () => 0.5,
    ...options,
  });
  engine.start();
  return hooks;
}

/** The meter's first grid slot after the (fake) start time. */
function firstSlot(meter: string, intervalMs = INTERVAL): number {
  return T0 + ((phaseOffsetMs(meter, intervalMs) - (T0 % intervalMs) + intervalMs) % intervalMs);
}

/** Offsets of reading timestamps from the meter's grid; all zero when the meter polls exactly on schedule. */
function gridOffsets(hooks: RecordingHooks, meter: string, intervalMs = INTERVAL): number[] {
  const phase = phaseOffsetMs(meter, intervalMs);
  return hooks.readingsOf(meter).map((r) => (r.ts - phase) % intervalMs);
}

describe("PollerEngine: schedule", () => {
  it("polls a healthy meter exactly on its fixed-rate grid over one association", async () => {
    const meter = new FakeMeter();
    const hooks = run({ a: meter }, [meterConfig("a")]);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL);

    const readings = hooks.readingsOf("a");
    expect(readings).toHaveLength(10);
    expect(gridOffsets(hooks, "a")).toEqual(new Array(10).fill(0));
    expect(readings[0]?.ts).toBeLessThan(T0 + INTERVAL);
    expect(readings[0]).toMatchObject({
      meter: "a",
      values: { voltage: 230, current: 231, active_energy: 232 },
      units: UNITS,
    });
    expect(readings[0]?.errors).toBeUndefined();
    expect(meter.sessions).toHaveLength(1);
    expect(meter.sessions[0]?.calls.filter((c) => c === "connect")).toHaveLength(1);
    expect(hooks.polls.map((p) => p.result)).toEqual(new Array(10).fill("ok"));
    expect(hooks.statuses).toEqual([{ meter: "a", online: true }]);
    expect(hooks.eventsOf("a", "connect")).toHaveLength(1);
    expect(hooks.states.get("a")).toMatchObject({ up: true, connected: true, breaker: "closed", skippedSlots: 0 });
  });

  it("publishes attributes with the units once per association", async () => {
    let reads = 0;
    const meter = new FakeMeter({
      read: (_n, specs) => (++reads === 1 ? Promise.reject(new Error("link lost")) : Promise.resolve(allValues(specs))),
    });
    const hooks = run({ a: meter }, [meterConfig("a")]);
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);

    // First read of session 0 fails -> reconnect -> session 1 polls on.
    expect(meter.sessions).toHaveLength(2);
    expect(hooks.attributes).toEqual([
      {
        meter: "a",
        attrs: {
          transport: "hdlc",
          serial_number: "SN-1",
          logical_device_name: "SIM",
          unit_voltage: "V",
          unit_current: "A",
          unit_active_energy: "Wh",
        },
      },
    ]);
  });

  it("keeps healthy meters on their grid while others hang, throw or are slow", async () => {
    const good = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`good-${i}`, new FakeMeter()]));
    const bad = {
      hangs: new FakeMeter({ read: () => hang() }),
      "hangs-connect": new FakeMeter({ connect: () => hang() }),
      throws: new FakeMeter({
        connect: () => {
          throw new Error("boom");
        },
      }),
      slow: new FakeMeter({ read: (_n, specs) => delay(3.5 * INTERVAL).then(() => allValues(specs)) }),
    };
    const ids = [...Object.keys(good), ...Object.keys(bad)];
    const hooks = run(
      { ...good, ...bad },
      ids.map((id) => meterConfig(id)),
      { maxConcurrentConnects: 2 },
    );
    await vi.advanceTimersByTimeAsync(20 * INTERVAL);

    for (const id of Object.keys(good)) {
      expect(gridOffsets(hooks, id)).toEqual(new Array(20).fill(0));
    }
    expect(hooks.readingsOf("hangs")).toHaveLength(0);
    expect(hooks.readingsOf("throws")).toHaveLength(0);
    expect(hooks.eventsOf("hangs", "watchdog-restart").length).toBeGreaterThan(0);
  });

  it("skips the slots an overrunning poll covered, never bunching polls", async () => {
    const meter = new FakeMeter({ read: (_n, specs) => delay(2.5 * INTERVAL).then(() => allValues(specs)) });
    const hooks = run({ slow: meter }, [meterConfig("slow")], { watchdogMs: 10 * INTERVAL });
    await vi.advanceTimersByTimeAsync(13 * INTERVAL);

    const ts = hooks.readingsOf("slow").map((r) => r.ts);
    expect(ts.length).toBe(4);
    expect(gridOffsets(hooks, "slow")).toEqual([0, 0, 0, 0]);
    for (let i = 1; i < ts.length; i++) expect(ts[i]! - ts[i - 1]!).toBe(3 * INTERVAL);
    // Each completed poll passed over two slots.
    expect(hooks.states.get("slow")?.skippedSlots).toBe(2 * ts.length);
    expect(meter.maxInFlightPerSession).toBe(1);
  });

  it("bounds concurrent connects without blocking polls on open associations", async () => {
    const fast = new FakeMeter();
    const slowConnects = Object.fromEntries(
      Array.from({ length: 6 }, (_, i) => [`s${i}`, new FakeMeter({ connect: () => delay(3 * INTERVAL) })]),
    );
    let maxConnects = 0;
    const all = { fast, ...slowConnects };
    const counting = fakeFactory(all);
    const hooks = new RecordingHooks();
    const configs = Object.keys(all).map((id) => meterConfig(id));
    engine = new PollerEngine({
      meters: configs,
      sessionFactory: (config, sessionHooks) => {
        const session = counting(config, sessionHooks);
        const connect = session.connect.bind(session);
        session.connect = () => {
          const p = connect();
          maxConnects = Math.max(
            maxConnects,
            Object.values(all).reduce((n, m) => n + m.connectsInFlight, 0),
          );
          return p;
        };
        return session;
      },
      hooks,
      maxConcurrentConnects: 2,
      breaker: { failureThreshold: 5, openMs: 60_000 },
      watchdogMs: 10 * INTERVAL,
    });
    engine.start();
    await vi.advanceTimersByTimeAsync(12 * INTERVAL);

    expect(maxConnects).toBe(2);
    // All six slow meters got through the semaphore two at a time (3 waves of 30 s).
    for (const id of Object.keys(slowConnects)) expect(hooks.readingsOf(id).length).toBeGreaterThan(0);
    // The fast meter may have waited for a permit to connect, but polls on its association never wait.
    const offsets = gridOffsets(hooks, "fast");
    const firstOnGrid = offsets.indexOf(0);
    expect(offsets.slice(firstOnGrid)).toEqual(new Array(offsets.length - firstOnGrid).fill(0));
    expect(offsets.length - firstOnGrid).toBeGreaterThanOrEqual(8);
  });
});

describe("PollerEngine: register errors", () => {
  it("emits the values that succeeded with the errors, as a partial poll", async () => {
    const meter = new FakeMeter({
      read: (_n, specs) =>
        Promise.resolve({
          ...allValues(specs),
          current: { error: "data-access-result object-undefined (4)", reason: "object-undefined" },
        }),
    });
    const hooks = run({ a: meter }, [meterConfig("a")]);
    await vi.advanceTimersByTimeAsync(INTERVAL);

    expect(hooks.readings).toEqual([
      {
        meter: "a",
        ts: expect.any(Number),
        values: { voltage: 230, active_energy: 232 },
        units: { voltage: "V", active_energy: "Wh" },
        errors: { current: "object-undefined" },
      },
    ]);
    expect(hooks.polls.map((p) => p.result)).toEqual(["partial"]);
    expect(hooks.eventsOf("a", "register-error").map((e) => e.detail)).toEqual([
      {
        key: "current",
        obis: "1.0.31.7.0.255",
        reason: "object-undefined",
        error: "data-access-result object-undefined (4)",
      },
    ]);
    expect(hooks.states.get("a")).toMatchObject({ up: true, consecutiveFailures: 0 });
  });

  it("emits no reading when no register could be read, and counts the failure", async () => {
    const meter = new FakeMeter({
      read: (_n, specs) =>
        Promise.resolve(Object.fromEntries(specs.map((s) => [s.key, { error: "read-write-denied" }]))),
    });
    const hooks = run({ a: meter }, [meterConfig("a")]);
    await vi.advanceTimersByTimeAsync(2 * INTERVAL);

    expect(hooks.readings).toEqual([]);
    expect(hooks.polls.map((p) => p.result)).toEqual(["error", "error"]);
    expect(hooks.eventsOf("a", "register-error")).toHaveLength(2 * REGISTERS.length);
    expect(hooks.states.get("a")).toMatchObject({ up: false, connected: true, consecutiveFailures: 2 });
    expect(meter.sessions).toHaveLength(1); // the association itself is fine
  });
});

describe("PollerEngine: resilience", () => {
  it("retries a meter that is down at start-up with backoff, opens and half-opens the breaker, and recovers", async () => {
    let reachable = false;
    const meter = new FakeMeter({
      connect: () =>
        reachable ? Promise.resolve() : Promise.reject(Object.assign(new Error("ECONNREFUSED"), { kind: "refused" })),
    });
    const hooks = run({ a: meter }, [meterConfig("a")], {
      breaker: { failureThreshold: 3, openMs: 60_000 },
      backoff: { baseMs: 1_000, maxMs: 8_000 },
      random: () => 0.5,
    });
    await vi.advanceTimersByTimeAsync(firstSlot("a") - T0);
    // Attempts at the slot, +500 ms (0.5 x 1 s), +1,000 ms (0.5 x 2 s): then the breaker opens.
    await vi.advanceTimersByTimeAsync(1_500);
    expect(meter.sessions).toHaveLength(3);
    expect(hooks.eventsOf("a", "connect-failed")).toHaveLength(3);
    expect(hooks.eventsOf("a", "breaker").map((e) => e.detail.to)).toEqual(["open"]);
    expect(hooks.states.get("a")).toMatchObject({ breaker: "open", consecutiveFailures: 3, up: false });
    expect(hooks.statuses).toEqual([{ meter: "a", online: false }]);

    await vi.advanceTimersByTimeAsync(60_000 - 1);
    expect(meter.sessions).toHaveLength(3); // no attempt while open

    await vi.advanceTimersByTimeAsync(1);
    expect(meter.sessions).toHaveLength(4); // exactly one half-open trial, which fails
    expect(hooks.eventsOf("a", "breaker").map((e) => e.detail.to)).toEqual(["open", "half-open", "open"]);

    reachable = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(meter.sessions).toHaveLength(5);
    expect(hooks.eventsOf("a", "breaker").map((e) => e.detail.to)).toEqual([
      "open",
      "half-open",
      "open",
      "half-open",
      "closed",
    ]);
    expect(hooks.statuses.at(-1)).toEqual({ meter: "a", online: true });
    expect(hooks.states.get("a")).toMatchObject({ breaker: "closed", consecutiveFailures: 0, up: true });
    const before = hooks.readingsOf("a").length;
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(hooks.readingsOf("a").length - before).toBe(3);
    expect(gridOffsets(hooks, "a").slice(-3)).toEqual([0, 0, 0]);
  });

  it("grows the reconnect delay exponentially while the breaker stays closed", async () => {
    const attempts: number[] = [];
    const meter = new FakeMeter({
      connect: () => {
        attempts.push(Date.now());
        return Promise.reject(new Error("no answer"));
      },
    });
    run({ a: meter }, [meterConfig("a")], {
      breaker: { failureThreshold: 100, openMs: 60_000 },
      backoff: { baseMs: 1_000, maxMs: 8_000 },
      random: () => 0.5,
    });
    await vi.advanceTimersByTimeAsync(INTERVAL + 40_000);
    const gaps = attempts.slice(1).map((t, i) => t - attempts[i]!);
    expect(gaps.slice(0, 6)).toEqual([500, 1_000, 2_000, 4_000, 4_000, 4_000]);
  });

  it("classifies per-step timeouts as timeout polls and drops the association", async () => {
    const timeout = Object.assign(new Error("no answer to GET"), { name: "TimeoutError" });
    const meter = new FakeMeter({
      read: (n, specs) => (n === 0 ? Promise.reject(timeout) : Promise.resolve(allValues(specs))),
    });
    const hooks = run({ a: meter }, [meterConfig("a")]);
    await vi.advanceTimersByTimeAsync(INTERVAL);

    expect(hooks.polls[0]?.result).toBe("timeout");
    expect(hooks.eventsOf("a", "read-failed")[0]?.detail).toEqual({
      operation: "read",
      error: "TimeoutError: no answer to GET",
    });
    expect(hooks.eventsOf("a", "disconnect")).toHaveLength(1);
    expect(meter.sessions[0]?.closed).toBe(true);
    // The retry (after 500 ms backoff) reconnects and serves the same slot late.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(hooks.polls.map((p) => p.result)).toEqual(["timeout", "ok"]);
    expect(meter.sessions).toHaveLength(2);
  });

  it("restarts a meter whose operation stalls past the watchdog, with a fresh session", async () => {
    const meter = new FakeMeter({ read: (n, specs) => (n === 0 ? hang() : Promise.resolve(allValues(specs))) });
    const hooks = run({ a: meter }, [meterConfig("a")], { watchdogMs: 5_000 });
    await vi.advanceTimersByTimeAsync(firstSlot("a") - T0 + 4_999);
    expect(hooks.eventsOf("a", "watchdog-restart")).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(1);
    expect(hooks.eventsOf("a", "watchdog-restart").map((e) => e.detail)).toEqual([
      { operation: "read", afterMs: 5_000 },
    ]);
    expect(meter.sessions[0]?.closed).toBe(true);
    expect(hooks.polls[0]?.result).toBe("timeout");

    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(meter.sessions).toHaveLength(2);
    expect(hooks.readingsOf("a").length).toBeGreaterThanOrEqual(3);
    expect(hooks.states.get("a")).toMatchObject({ watchdogRestarts: 1, up: true, connected: true });
  });

  it("backs off, without leaking its connect permit, when the session factory throws", async () => {
    const healthy = new FakeMeter();
    let built = 0;
    const hooks = run({ ok: healthy }, [meterConfig("broken"), meterConfig("ok")], {
      maxConcurrentConnects: 1,
      breaker: { failureThreshold: 100, openMs: 60_000 },
      sessionFactory: (config, sessionHooks) => {
        if (config.id === "broken") {
          built++;
          throw new Error("timeoutMs must be > 0");
        }
        return fakeFactory({ ok: healthy })(config, sessionHooks);
      },
    });
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);

    expect(hooks.readingsOf("ok")).toHaveLength(3);
    expect(built).toBeGreaterThan(1);
    expect(built).toBeLessThan(20); // retried with backoff, not in a tight loop
    expect(hooks.eventsOf("broken", "connect-failed")[0]?.detail.error).toBe("timeoutMs must be > 0");
  });

  it("carries on when a hook throws", async () => {
    const errors: string[] = [];
    const meter = new FakeMeter();
    const hooks = new RecordingHooks();
    hooks.onReading = () => {
      throw new Error("outbox full");
    };
    engine = new PollerEngine({
      meters: [meterConfig("a")],
      sessionFactory: fakeFactory({ a: meter }),
      hooks,
      maxConcurrentConnects: 1,
      breaker: { failureThreshold: 5, openMs: 60_000 },
      onHookError: (error, hook) => errors.push(`${hook}: ${(error as Error).message}`),
    });
    engine.start();
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(errors).toEqual(new Array(3).fill("onReading: outbox full"));
    expect(hooks.polls.map((p) => p.result)).toEqual(["ok", "ok", "ok"]);
  });

  it("never puts the meter password into events, states or attributes", async () => {
    const meter = new FakeMeter({ connect: () => Promise.reject(new Error("association rejected")) });
    const hooks = run({ a: meter }, [meterConfig("a", { password: "p4ss-Secret" })], {
      breaker: { failureThreshold: 2, openMs: 1_000 },
    });
    await vi.advanceTimersByTimeAsync(3 * INTERVAL);
    expect(hooks.events.length).toBeGreaterThan(0);
    const everything = JSON.stringify([hooks.events, [...hooks.states.values()], hooks.attributes, engine?.status()]);
    expect(everything).not.toContain("p4ss-Secret");
  });
});

describe("PollerEngine: keep-alive", () => {
  const long = { intervalMs: 300_000 };

  it("keeps an idle association alive when the interval exceeds keepAliveMs", async () => {
    const meter = new FakeMeter();
    const hooks = run({ a: meter }, [meterConfig("a", long)], { keepAliveMs: 60_000 });
    await vi.advanceTimersByTimeAsync(300_000 + 300_000);

    const calls = meter.sessions[0]?.calls ?? [];
    expect(meter.sessions).toHaveLength(1);
    expect(hooks.readingsOf("a")).toHaveLength(2);
    // Between two polls 300 s apart: keep-alives at +60, +120, +180, +240 s.
    const between = calls.slice(calls.indexOf("read") + 1, calls.lastIndexOf("read"));
    expect(between).toEqual(["keep-alive", "keep-alive", "keep-alive", "keep-alive"]);
    expect(gridOffsets(hooks, "a", long.intervalMs)).toEqual([0, 0]);
  });

  it("releases and reconnects at the next slot when the session has no keep-alive", async () => {
    const meter = new FakeMeter({ keepAlive: false });
    const hooks = run({ a: meter }, [meterConfig("a", long)], { keepAliveMs: 60_000 });
    await vi.advanceTimersByTimeAsync(2 * 300_000);

    expect(meter.sessions).toHaveLength(2);
    expect(meter.sessions[0]?.calls).toEqual(["connect", "attributes", "read", "release", "close"]);
    expect(hooks.readingsOf("a")).toHaveLength(2);
    expect(gridOffsets(hooks, "a", long.intervalMs)).toEqual([0, 0]);
    expect(hooks.attributes).toHaveLength(2); // re-published after the re-association
  });

  it("drops the association when a keep-alive fails", async () => {
    const meter = new FakeMeter({ keepAlive: () => Promise.reject(new Error("no answer")) });
    const hooks = run({ a: meter }, [meterConfig("a", long)], { keepAliveMs: 60_000 });
    await vi.advanceTimersByTimeAsync(300_000 + 60_000);
    expect(hooks.eventsOf("a", "read-failed").map((e) => e.detail.operation)).toEqual(["keep-alive"]);
    expect(meter.sessions[0]?.closed).toBe(true);
    expect(hooks.states.get("a")?.connected).toBe(false);
  });
});

describe("PollerEngine: stop", () => {
  it("releases every association and stops polling", async () => {
    const meters = { a: new FakeMeter(), b: new FakeMeter() };
    const hooks = run(meters, [meterConfig("a"), meterConfig("b")]);
    await vi.advanceTimersByTimeAsync(2 * INTERVAL);
    await engine?.stop();
    for (const meter of Object.values(meters)) {
      expect(meter.sessions).toHaveLength(1);
      expect(meter.sessions[0]?.calls.slice(-2)).toEqual(["release", "close"]);
    }
    const count = hooks.readings.length;
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(hooks.readings.length).toBe(count);
    expect(engine?.status().every((s) => !s.connected)).toBe(true);
  });

  it("is bounded in time when an operation or a release hangs", async () => {
    const meters = {
      stuck: new FakeMeter({ read: () => hang() }),
      deaf: new FakeMeter({ release: () => hang() }),
      waiting: new FakeMeter({ connect: () => hang() }),
    };
    run(
      meters,
      Object.keys(meters).map((id) => meterConfig(id)),
      {
        maxConcurrentConnects: 2,
        stopTimeoutMs: 2_000,
        watchdogMs: 10 * INTERVAL,
      },
    );
    await vi.advanceTimersByTimeAsync(INTERVAL);
    let stopped = false;
    void engine?.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(stopped).toBe(true);
    for (const meter of Object.values(meters)) {
      for (const session of meter.sessions) expect(session.closed).toBe(true);
    }
  });
});

describe("PollerEngine: a register that keeps failing", () => {
  it("keeps the meter up with partial readings and reads the register after 1, 2, 4 … intervals, capped", async () => {
    const readSpecs: string[][] = [];
    const meter = new FakeMeter({
      read: (_n, specs) => {
        readSpecs.push(specs.map((s) => s.key));
        return Promise.resolve({
          ...allValues(specs),
          ...(specs.some((s) => s.key === "current")
            ? { current: { error: "attr 2: data-access-result object-undefined (4)", reason: "object-undefined" } }
            : {}),
        });
      },
    });
    const hooks = run({ a: meter }, [meterConfig("a")], { registerBackoffMaxMs: 8 * INTERVAL });
    await vi.advanceTimersByTimeAsync(firstSlot("a") - T0 + 40 * INTERVAL);

    const polls = readSpecs.length;
    const withCurrent = readSpecs.flatMap((keys, i) => (keys.includes("current") ? [i] : []));
    // Polls 0, 1, 3, 7, 15, then every 8 intervals (the cap).
    expect(withCurrent).toEqual([0, 1, 3, 7, 15, 23, 31, 39].filter((i) => i < polls));
    expect(polls).toBeGreaterThanOrEqual(40);
    // Every poll published the other registers; nothing ever counted against the meter.
    expect(hooks.readingsOf("a")).toHaveLength(polls);
    for (const reading of hooks.readingsOf("a"))
      expect(Object.keys(reading.values).sort()).toEqual(["active_energy", "voltage"]);
    expect(hooks.eventsOf("a", "register-error")).toHaveLength(withCurrent.length);
    expect(hooks.eventsOf("a", "breaker")).toEqual([]);
    expect(hooks.statuses).toEqual([{ meter: "a", online: true }]);
    const state = hooks.states.get("a")!;
    expect(state).toMatchObject({ up: true, consecutiveFailures: 0, breaker: "closed" });
    expect(state.lastError).toBe(
      "partial reading: current (1.0.31.7.0.255) attr 2: data-access-result object-undefined (4)",
    );
    expect(state.failingRegisters?.current).toMatchObject({ failures: withCurrent.length, reason: "object-undefined" });
  });

  it("forgets the backoff once the register reads again", async () => {
    let missing = true;
    const readSpecs: string[][] = [];
    const meter = new FakeMeter({
      read: (_n, specs) => {
        readSpecs.push(specs.map((s) => s.key));
        const failing = missing && specs.some((s) => s.key === "current");
        return Promise.resolve({
          ...allValues(specs),
          ...(failing
            ? { current: { error: "attr 2: data-access-result temporary-failure (2)", reason: "temporary-failure" } }
            : {}),
        });
      },
    });
    const hooks = run({ a: meter }, [meterConfig("a")]);
    await vi.advanceTimersByTimeAsync(firstSlot("a") - T0 + 2 * INTERVAL); // polls 0, 1, 2: current read at 0 and 1
    missing = false;
    await vi.advanceTimersByTimeAsync(4 * INTERVAL); // polls 3..6: current read again at 3, then every poll
    expect(readSpecs.map((keys) => keys.includes("current"))).toEqual([true, true, false, true, true, true, true]);
    expect(hooks.states.get("a")?.failingRegisters).toEqual({});
    expect(hooks.readingsOf("a").at(-1)?.values).toHaveProperty("current");
  });
});

describe("PollerEngine: on-demand reads", () => {
  const VOLTAGE_REF = { obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 };

  it("runs a read on the live association after the poll in flight, never alongside it, and polls go on", async () => {
    const meter = new FakeMeter({
      read: async (_n, specs) => {
        await delay(3_000); // a slow poll: the on-demand read must wait for it
        return allValues(specs);
      },
    });
    const hooks = run({ a: meter }, [meterConfig("a")]);
    await vi.advanceTimersByTimeAsync(firstSlot("a") - T0 + 1_000); // first poll in flight
    expect(meter.sessions[0]!.calls).toEqual(["connect", "attributes", "read"]);
    const reading = engine!.readNow("a", [VOLTAGE_REF], 30_000);
    await vi.advanceTimersByTimeAsync(2_500);
    const result = await reading;
    expect(result).toMatchObject({ meter: "a", objects: [{ ...VOLTAGE_REF, value: 42, unit: "V" }] });
    expect(meter.sessions[0]!.calls).toEqual(["connect", "attributes", "read", "read-objects"]);
    expect(meter.maxInFlightPerSession).toBe(1);
    await vi.advanceTimersByTimeAsync(5 * INTERVAL);
    expect(hooks.readingsOf("a").length).toBe(6); // the schedule went on: every slot polled
    expect(gridOffsets(hooks, "a").every((offset) => offset === 0)).toBe(true);
    expect(meter.sessions).toHaveLength(1);
  });

  it("reads the configured registers when no object is named", async () => {
    const meter = new FakeMeter();
    run({ a: meter }, [meterConfig("a")]);
    await vi.advanceTimersByTimeAsync(firstSlot("a") - T0);
    const result = await engine!.readNow("a", undefined, 30_000);
    expect(result.objects.map((o) => o.obis)).toEqual(REGISTERS.map((r) => r.obis));
  });

  it("refuses an unknown meter, a meter with no association, and a full queue", async () => {
    const down = new FakeMeter({ connect: () => Promise.reject(new Error("ECONNREFUSED")) });
    const slow = new FakeMeter({ read: () => hang() });
    run({ down, slow }, [meterConfig("down"), meterConfig("slow")], { watchdogMs: 600_000 });
    await vi.advanceTimersByTimeAsync(INTERVAL + 10);

    await expect(engine!.readNow("nope", undefined, 1_000)).rejects.toMatchObject({ failure: "unknown-meter" });
    const refused = engine!.readNow("down", undefined, 1_000);
    await expect(refused).rejects.toMatchObject({
      failure: "unavailable",
      state: { lastError: "ECONNREFUSED", connected: false },
    });
    // "slow" hangs in its poll: four reads may wait, the fifth is refused at once.
    const waiting = [1, 2, 3, 4].map(() => engine!.readNow("slow", undefined, 5_000));
    for (const w of waiting) w.catch(() => undefined);
    await expect(engine!.readNow("slow", undefined, 5_000)).rejects.toMatchObject({ failure: "busy" });
  });
});
