// Issue 8 §3 on real TCP: a meter whose GET-with-list fails every item after a missing object (a third-party
// server's quirk) still gives every other register on every poll; the missing one is a partial reading, backed off
// per register, and never takes the meter offline or opens its breaker.
import { afterEach, describe, expect, it } from "vitest";
import type { Apdu } from "../../src/dlms/apdu/types.js";
import type { DlmsData } from "../../src/dlms/axdr/types.js";
import { formatObis } from "../../src/dlms/cosem/obis.js";
import type { MeterConfig, RegisterSpec } from "../../src/model.js";
import { createDlmsSessionFactory } from "../../src/poller/dlms-session.js";
import { PollerEngine } from "../../src/poller/engine.js";
import { failsAfterMissingInList, key } from "../client/scripted-meter.js";
import { type ScriptedMeterServer, serveScriptedMeter } from "../client/scripted-meter-server.js";
import { RecordingHooks } from "./fakes.js";

const VOLTAGE = "1.0.32.7.0.255";
const MISSING = "1.0.99.99.0.255";
const CURRENT = "1.0.31.7.0.255";
const FREQUENCY = "1.0.14.7.0.255";
const u16 = (value: number): DlmsData => ({ type: "long-unsigned", value });
const scalerUnit = (scaler: number, unit: number): DlmsData => ({
  type: "structure",
  value: [
    { type: "integer", value: scaler },
    { type: "enum", value: unit },
  ],
});
const VALUES: Record<string, DlmsData> = {
  [key(3, VOLTAGE, 2)]: u16(23012),
  [key(3, VOLTAGE, 3)]: scalerUnit(-2, 35),
  [key(3, CURRENT, 2)]: u16(1234),
  [key(3, CURRENT, 3)]: scalerUnit(-3, 33),
  [key(3, FREQUENCY, 2)]: u16(4998),
  [key(3, FREQUENCY, 3)]: scalerUnit(-2, 44),
};
const REGISTERS: RegisterSpec[] = [
  { key: "voltage", obis: VOLTAGE, classId: 3, attributeId: 2 },
  { key: "missing", obis: MISSING, classId: 3, attributeId: 2 },
  { key: "current", obis: CURRENT, classId: 3, attributeId: 2 },
  { key: "frequency", obis: FREQUENCY, classId: 3, attributeId: 2 },
];
const INTERVAL_MS = 250;

let engine: PollerEngine | undefined;
let server: ScriptedMeterServer | undefined;
afterEach(async () => {
  await engine?.stop();
  await server?.close();
  engine = undefined;
  server = undefined;
});

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How many times the missing object's value was asked for (in a list or alone). */
function requestsOf(requests: Apdu[], obis: string): number {
  let count = 0;
  for (const r of requests) {
    if (r.tag !== "get-request") continue;
    const attributes = r.kind === "with-list" ? r.attributes : r.kind === "normal" ? [r.attribute] : [];
    count += attributes.filter((a) => formatObis(a.instanceId) === obis && a.attributeId === 2).length;
  }
  return count;
}

describe("a missing register behind a with-list quirk, over TCP", () => {
  it("publishes the other registers on every poll, backs the missing one off, keeps the meter online", async () => {
    server = await serveScriptedMeter({
      conformance: ["get", "multiple-references"],
      values: VALUES,
      script: failsAfterMissingInList,
    });
    const meter: MeterConfig = {
      id: "quirky",
      transport: "hdlc",
      host: "127.0.0.1",
      port: server.port,
      clientAddress: 16,
      serverLogical: 1,
      auth: "none",
      intervalMs: INTERVAL_MS,
      timeoutMs: 1_000,
      registers: REGISTERS,
    };
    const hooks = new RecordingHooks();
    engine = new PollerEngine({
      meters: [meter],
      sessionFactory: createDlmsSessionFactory(),
      hooks,
      maxConcurrentConnects: 1,
      breaker: { failureThreshold: 2, openMs: 60_000 },
    });
    engine.start();
    await waitFor("16 readings", () => hooks.readingsOf("quirky").length >= 16);
    await engine.stop();

    const readings = hooks.readingsOf("quirky");
    for (const reading of readings) {
      expect(reading.values).toEqual({ voltage: 230.12, current: 1.234, frequency: 49.98 });
      expect(reading.units).toEqual({ voltage: "V", current: "A", frequency: "Hz" });
    }
    const polls = hooks.polls.filter((p) => p.meter === "quirky");
    expect(polls.every((p) => p.result === "ok" || p.result === "partial")).toBe(true);
    const partial = polls.filter((p) => p.result === "partial").length;
    // Read (and failed) on polls 0, 1, 3, 7, 15 …: far fewer attempts than polls.
    expect(partial).toBeGreaterThanOrEqual(3);
    expect(partial).toBeLessThanOrEqual(Math.ceil(Math.log2(polls.length)) + 1);
    expect(hooks.eventsOf("quirky", "register-error").map((e) => e.detail.key)).toEqual(
      new Array(partial).fill("missing"),
    );
    const asked = server.meters.reduce((sum, m) => sum + requestsOf(m.requests, MISSING), 0);
    expect(asked).toBe(2 * partial); // once in the list, once alone, on each poll that tried it

    expect(server.meters).toHaveLength(1); // one association throughout
    expect(hooks.eventsOf("quirky", "breaker")).toEqual([]);
    expect(hooks.statuses.map((s) => s.online)).toEqual([true]);
    const state = hooks.states.get("quirky")!;
    expect(state.consecutiveFailures).toBe(0);
    expect(state.lastError).toContain(`missing (${MISSING}) attr 2: data-access-result object-undefined (4)`);
    expect(state.failingRegisters?.missing).toMatchObject({ failures: partial, reason: "object-undefined" });
  });
});
