// Load-profile backfill end to end: the real `dlms-bridge run`, the simulator with a 1-second profile started "in
// the past", a real Mosquitto subscriber. Bridge SIGKILLed for several capture periods, then meter silenced for
// several: after each, every row of the gap arrives exactly once, with the meter's timestamp and the meter's values,
// and live telemetry keeps its grid.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  apiMeters,
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  metricValue,
  type Recorder,
  record,
  scrape,
  servedEverySlot,
  sleep,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

const PERIOD_MS = 1000;
const HISTORY_MS = 20_000;

interface Row {
  meter: string;
  ts: number;
  values: Record<string, number>;
}

function profileRows(recorder: Recorder, meter: string): Row[] {
  return recorder.messages
    .filter((m) => m.topic === `dlms/${meter}/profile`)
    .flatMap((m) => JSON.parse(m.payload) as Row[]);
}

const newest = (rows: Row[]) => rows.reduce((max, r) => Math.max(max, r.ts), 0);

/** Every capture instant from the first to the last row is there; returns how often each ts came. */
function checkContinuous(rows: Row[]): Map<number, Row[]> {
  const byTs = new Map<number, Row[]>();
  for (const r of rows) byTs.set(r.ts, [...(byTs.get(r.ts) ?? []), r]);
  const times = [...byTs.keys()].sort((a, b) => a - b);
  const missing: number[] = [];
  for (let t = times[0]!; t <= times.at(-1)!; t += PERIOD_MS) if (!byTs.has(t)) missing.push(t);
  expect(missing, "capture instants without a row").toEqual([]);
  for (const [ts, copies] of byTs) {
    // QoS 1 may repeat a message after a kill: then it is the same row (same ts, same values), stored once.
    for (const c of copies) expect(c, `row ${ts}`).toEqual(copies[0]);
  }
  return byTs;
}

describe("dlms-bridge run: load-profile backfill", () => {
  let broker: MosquittoHandle | undefined;
  let sim: RunningSimulator | undefined;

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await sim?.close();
    await broker?.stop();
  });

  async function setUp() {
    broker = await startMosquitto();
    const simStart = Date.now();
    sim = await startSimulator({ port: 0, seed: 5, profilePeriodSeconds: 1, profileHistoryMs: HISTORY_MS });
    const recorder = await record(broker.url);
    const dbPath = join(await tempDir(), "bridge.db");
    const env = bridgeEnv({
      mqttUrl: broker.url,
      dbPath,
      meters: { east: `hdlc://127.0.0.1:${sim.ports[0]}?interval=1s&timeout=1s&profile=default&backfill=1h` },
      extra: { BREAKER_FAILURE_THRESHOLD: "2", BREAKER_OPEN_SECONDS: "1" },
    });
    return { simStart, recorder, env };
  }

  /** The rows are the meter's own: its energy and power at each capture instant. */
  function expectMeterValues(rows: Row[]) {
    const model = sim!.meters[0]!.model;
    for (const r of rows.slice(0, 50).concat(rows.slice(-50))) {
      const [energy, power] = model.profile.values(r.ts) as { value: number }[];
      expect(r.values, `row ${r.ts}`).toEqual({ active_energy: energy!.value, active_power: power!.value });
    }
  }

  it("bridge SIGKILLed for several capture periods: the history and the gap arrive, each row once", async () => {
    const { simStart, recorder, env } = await setUp();
    const first = await startBridge(env);
    await first.httpPort();
    await waitUntil(() => newest(profileRows(recorder, "east")) >= simStart + 2000, "the history backfilled", 60_000);
    // History: from the profile's first capture on.
    const firstCapture = Math.ceil((simStart - HISTORY_MS) / PERIOD_MS) * PERIOD_MS;
    expect(Math.min(...profileRows(recorder, "east").map((r) => r.ts))).toBeLessThanOrEqual(firstCapture + PERIOD_MS);

    first.child.kill("SIGKILL");
    await first.exited;
    const killedAt = Date.now();
    await sleep(5 * PERIOD_MS);
    const restartedAt = Date.now();
    const second = await startBridge(env);
    const port = await second.httpPort();
    await waitUntil(() => newest(profileRows(recorder, "east")) >= restartedAt + 3000, "the gap backfilled", 60_000);

    const rows = profileRows(recorder, "east");
    const byTs = checkContinuous(rows);
    const gap = [...byTs.entries()].filter(([ts]) => ts > killedAt + PERIOD_MS && ts < restartedAt - PERIOD_MS);
    expect(gap.length).toBeGreaterThanOrEqual(3);
    for (const [ts, copies] of gap) expect(copies, `gap row ${ts}`).toHaveLength(1);
    expectMeterValues(rows);

    // Live polling of the restarted bridge kept its grid from its first reading on, backfill meanwhile.
    const live = () => recorder.telemetry("east").filter((t) => t.ts > restartedAt);
    await waitUntil(() => live().length >= 4, "4 live readings after the restart");
    expect(servedEverySlot(live(), 1000)).toBe(true);
    const [api] = await apiMeters(port);
    expect(api!.profiles).toEqual([{ profile: "1.0.99.1.0.255", lastRowTs: expect.any(Number) }]);
    expect((api!.profiles as { lastRowTs: number }[])[0]!.lastRowTs).toBeGreaterThanOrEqual(newest(rows));
    const samples = await scrape(port);
    expect(metricValue(samples, "dlms_bridge_profile_rows_total", { meter: "east" })).toBeGreaterThanOrEqual(
      gap.length,
    );
    expect(metricValue(samples, "dlms_bridge_profile_backfill_lag_seconds", { meter: "east" })).toBeLessThan(5);
  }, 120_000);

  it("meter unreachable for several capture periods (simulator silenced): the gap arrives, each row once", async () => {
    const { simStart, recorder, env } = await setUp();
    const bridge = await startBridge(env);
    await bridge.httpPort();
    await waitUntil(() => newest(profileRows(recorder, "east")) >= simStart + 2000, "the history backfilled", 60_000);

    const meter = sim!.meters[0]!;
    meter.faults.silenced = true;
    const silencedAt = Date.now();
    await waitUntil(() => recorder.last("dlms/east/status")?.payload.includes("offline") ?? false, "meter offline");
    await sleep(3 * PERIOD_MS);
    meter.faults.silenced = false;
    const backAt = Date.now();
    await waitUntil(() => newest(profileRows(recorder, "east")) >= backAt + 3000, "the gap backfilled", 60_000);

    const rows = profileRows(recorder, "east");
    const byTs = checkContinuous(rows);
    const gap = [...byTs.entries()].filter(([ts]) => ts > silencedAt + PERIOD_MS && ts < backAt - PERIOD_MS);
    expect(gap.length).toBeGreaterThanOrEqual(3);
    for (const [ts, copies] of byTs) expect(copies, `row ${ts}`).toHaveLength(1); // no kill here: no repeat at all
    expectMeterValues(rows);
  }, 120_000);
});
