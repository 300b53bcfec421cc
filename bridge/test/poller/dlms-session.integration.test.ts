// The engine with the real DlmsSession (DlmsClient over TCP) against simulated meters: readings, attributes,
// association reuse, a meter with corrupted frames, and the breaker of a meter that only comes up later.

import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { REGISTER_SETS } from "../../src/config/register-sets.js";
import type { MeterConfig, RegisterSpec } from "../../src/model.js";
import { createDlmsSessionFactory } from "../../src/poller/dlms-session.js";
import { PollerEngine } from "../../src/poller/engine.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { RecordingHooks } from "./fakes.js";

const PASSWORD = "lls-Secret-42";
const REGISTERS: RegisterSpec[] = [
  ...(REGISTER_SETS.default ?? []),
  { key: "missing", obis: "1.0.99.99.0.255", classId: 3, attributeId: 2 },
];

const simulators: RunningSimulator[] = [];
let engine: PollerEngine | undefined;

afterEach(async () => {
  await engine?.stop();
  engine = undefined;
  await Promise.all(simulators.splice(0).map((sim) => sim.close()));
});

async function simulator(options: Parameters<typeof startSimulator>[0]): Promise<RunningSimulator> {
  const sim = await startSimulator({ port: 0, ...options });
  simulators.push(sim);
  return sim;
}

/** A port nobody listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function meter(id: string, port: number, overrides: Partial<MeterConfig> = {}): MeterConfig {
  return {
    id,
    transport: "hdlc",
    host: "127.0.0.1",
    port,
    clientAddress: 16,
    serverLogical: 1,
    auth: "none",
    intervalMs: 500,
    timeoutMs: 400,
    registers: REGISTERS,
    ...overrides,
  };
}

describe("PollerEngine with DlmsSession against the simulator", () => {
  it("polls over one association per meter, survives a corrupting meter, and closes the breaker of a late one", async () => {
    const healthy = await simulator({ count: 2, auth: "low", password: PASSWORD });
    const corrupting = await simulator({ count: 1, corruptFcsEvery: 3 });
    const latePort = await freePort();
    const lls = { clientAddress: 1, auth: "low" as const, password: PASSWORD, timeoutMs: 1_500 };
    const configs = [
      meter("h0", healthy.ports[0]!, lls),
      meter("h1", healthy.ports[1]!, lls),
      meter("corrupt", corrupting.ports[0]!),
      meter("late", latePort),
    ];
    const hooks = new RecordingHooks();
    const discarded: string[] = [];
    hooks.onDiscarded = (id: string, reason: string) => {
      discarded.push(`${id}:${reason}`);
    };
    engine = new PollerEngine({
      meters: configs,
      sessionFactory: createDlmsSessionFactory(),
      hooks,
      maxConcurrentConnects: 2,
      breaker: { failureThreshold: 2, openMs: 1_000 },
      backoff: { baseMs: 50, maxMs: 200 },
    });
    engine.start();

    const breakerOf = (id: string) => hooks.eventsOf(id, "breaker").map((e) => e.detail.to);
    await waitFor("the late meter's breaker to open", () => breakerOf("late").includes("open"));
    await simulator({ count: 1, port: latePort });
    await waitFor("a reading from the late meter", () => hooks.readingsOf("late").length > 0);
    await waitFor("three readings from each healthy meter", () =>
      ["h0", "h1"].every((id) => hooks.readingsOf(id).length >= 3),
    );
    await engine.stop();

    for (const [index, id] of ["h0", "h1"].entries()) {
      const reading = hooks.readingsOf(id)[0]!;
      expect(Object.keys(reading.values).sort()).toEqual([
        "active_energy",
        "active_power",
        "current",
        "frequency",
        "voltage",
      ]);
      expect(reading.values.voltage).toBeGreaterThan(100);
      expect(reading.values.voltage).toBeLessThan(400);
      expect(reading.units?.voltage).toBe("V");
      expect(reading.errors).toEqual({ missing: "object-undefined" });
      expect(hooks.attributes.find((a) => a.meter === id)?.attrs).toMatchObject({
        serial_number: healthy.meters[index]!.serialNumber,
        transport: "hdlc",
        unit_voltage: "V",
        unit_frequency: "Hz",
      });
      // One association reused across every poll, released on stop.
      expect(hooks.eventsOf(id, "connect")).toHaveLength(1);
      expect(healthy.meters[index]!.stats.associations).toBe(1);
      expect(hooks.eventsOf(id, "disconnect").map((e) => e.detail.reason)).toEqual(["stopped"]);
    }

    const late = breakerOf("late");
    expect(late[0]).toBe("open");
    expect(late.slice(-2)).toEqual(["half-open", "closed"]);
    expect(hooks.statuses.filter((s) => s.meter === "late").map((s) => s.online)).toEqual([false, true]);

    // Every third frame of "corrupt" has a bad FCS: discarded and counted, its association times out, its breaker
    // opens, and nobody else notices.
    expect(discarded.some((d) => d === "corrupt:bad-fcs")).toBe(true);
    expect(breakerOf("corrupt")[0]).toBe("open");
    expect(discarded.every((d) => d.startsWith("corrupt:"))).toBe(true);
    expect(JSON.stringify([hooks.events, hooks.attributes, [...hooks.states.values()]])).not.toContain(PASSWORD);
  });
});
