// Meter clocks as they are in the field, end to end through `dlms-bridge run` to a real Mosquitto subscriber:
// a meter whose clock runs 5 minutes ahead (its rows keep its own timestamps; the drift is published as the
// attribute clock_drift_s and the metric dlms_bridge_meter_clock_drift_seconds), and a meter whose profile spans the
// end of summer time (CEST -> CET: local 02:00-03:00 happens twice; every row once, one period apart, in UTC).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  metricValue,
  type Recorder,
  record,
  scrape,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

interface Row {
  ts: number;
  values: Record<string, number>;
}

function profileRows(recorder: Recorder, meter: string): Row[] {
  return recorder.messages
    .filter((m) => m.topic === `dlms/${meter}/profile`)
    .flatMap((m) => JSON.parse(m.payload) as Row[]);
}

const MINUTE = 60_000;

describe("dlms-bridge run: load profiles and meter clocks", () => {
  let broker: MosquittoHandle | undefined;
  const sims: RunningSimulator[] = [];

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    for (const s of sims.splice(0)) await s.close();
    await broker?.stop();
  }, 120_000);

  it("rows keep the meter's timestamps: clock 5 minutes ahead (drift reported) and across a DST change", async () => {
    broker = await startMosquitto();
    // "ahead": real time, clock +5 min, CET in winter (deviation -60).
    const ahead = await startSimulator({
      port: 0,
      seed: 11,
      profilePeriodSeconds: 60,
      profileHistoryMs: 20 * MINUTE,
      clockOffsetMs: 5 * MINUTE,
      clockDeviationMinutes: -60,
      dst: "eu",
    });
    sims.push(ahead);
    // "dst": its clock shows 2026-10-25 02:00 UTC now, its profile of the last 2 hours spans 01:00 UTC, when
    // 03:00 CEST (deviation -120) became 02:00 CET (deviation -60).
    const change = Date.UTC(2026, 9, 25, 1, 0);
    const shift = change + 60 * MINUTE - Date.now();
    const dst = await startSimulator({
      port: 0,
      seed: 12,
      now: () => Date.now() + shift,
      profilePeriodSeconds: 60,
      profileHistoryMs: 120 * MINUTE,
      clockDeviationMinutes: -60,
      dst: "eu",
    });
    sims.push(dst);
    const recorder = await record(broker.url);
    const env = bridgeEnv({
      mqttUrl: broker.url,
      dbPath: join(await tempDir(), "bridge.db"),
      meters: {
        ahead: `hdlc://127.0.0.1:${ahead.ports[0]}?interval=1s&profile=default&backfill=1h`,
        dst: `hdlc://127.0.0.1:${dst.ports[0]}?interval=1s&profile=default&backfill=1d`,
      },
    });
    const startedAt = Date.now();
    const bridge = await startBridge(env);
    const port = await bridge.httpPort();
    await waitUntil(() => profileRows(recorder, "ahead").length >= 20, "20 rows of 'ahead'", 60_000);
    await waitUntil(() => profileRows(recorder, "dst").length >= 119, "the 2 hours of 'dst'", 60_000);

    // Clock 5 minutes ahead: the newest row is the meter's latest capture, up to 5 minutes "in the future".
    const aheadRows = profileRows(recorder, "ahead");
    const meterNow = Date.now() + 5 * MINUTE;
    expect(aheadRows.at(-1)!.ts).toBeGreaterThanOrEqual(Math.floor((startedAt + 5 * MINUTE) / MINUTE) * MINUTE);
    expect(aheadRows.at(-1)!.ts).toBeLessThanOrEqual(meterNow);
    expect(aheadRows.every((r) => r.ts % MINUTE === 0)).toBe(true);
    // Attributes are published with the first poll's units, which may come after the backfilled rows.
    await waitUntil(() => recorder.last("dlms/ahead/attributes") !== undefined, "the attributes of 'ahead'", 30_000);
    const attributes = JSON.parse(recorder.last("dlms/ahead/attributes")!.payload) as { clock_drift_s: number };
    expect(attributes.clock_drift_s).toBeGreaterThan(295);
    expect(attributes.clock_drift_s).toBeLessThan(305);
    const samples = await scrape(port);
    const drift = metricValue(samples, "dlms_bridge_meter_clock_drift_seconds", { meter: "ahead" });
    expect(drift).toBe(attributes.clock_drift_s);

    // DST: one row per minute in UTC straight through the change, none twice, none missing.
    const dstRows = profileRows(recorder, "dst");
    const ts = dstRows.map((r) => r.ts);
    expect(new Set(ts).size).toBe(ts.length);
    const around = ts.filter((t) => t >= change - 30 * MINUTE && t <= change + 30 * MINUTE);
    expect(around).toEqual(Array.from({ length: 61 }, (_, i) => change - 30 * MINUTE + i * MINUTE));
    const model = dst.meters[0]!.model;
    for (const r of dstRows.filter((row) => Math.abs(row.ts - change) <= 2 * MINUTE)) {
      const [energy] = model.profile.values(r.ts) as { value: number }[];
      expect(r.values.active_energy, `row ${new Date(r.ts).toISOString()}`).toBe(energy!.value);
    }
  }, 120_000);
});
