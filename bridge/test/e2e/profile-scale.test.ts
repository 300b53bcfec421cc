// A backfill of thousands of load-profile rows over HDLC (128-byte frames: segmentation, 1024-byte PDUs: block
// transfer) on one meter, while it and two other meters are polled every second: no scheduled poll is skipped, live
// telemetry arrives while the rows do, and every row arrives once.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  apiMeters,
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  record,
  servedEverySlot,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

const MINUTE = 60_000;
const DAYS = 10;
const HISTORY_MS = DAYS * 86_400_000; // 14,400 one-minute rows

describe("dlms-bridge run: a long backfill next to live polling", () => {
  let broker: MosquittoHandle | undefined;
  let sim: RunningSimulator | undefined;

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await sim?.close();
    await broker?.stop();
  });

  it("backfills 10 days of 1-minute rows while every meter keeps 100 % of its scheduled polls", async () => {
    broker = await startMosquitto();
    const simStart = Date.now();
    sim = await startSimulator({ port: 0, count: 3, seed: 21, profilePeriodSeconds: 60, profileHistoryMs: HISTORY_MS });
    const recorder = await record(broker.url);
    const url = (i: number, extra = "") => `hdlc://127.0.0.1:${sim!.ports[i]}?interval=1s&timeout=2s${extra}`;
    const env = bridgeEnv({
      mqttUrl: broker.url,
      dbPath: join(await tempDir(), "bridge.db"),
      meters: { big: url(0, "&profile=default&backfill=11d"), live1: url(1), live2: url(2) },
    });
    const bridge = await startBridge(env);
    const port = await bridge.httpPort();

    const firstCapture = Math.ceil((simStart - HISTORY_MS) / MINUTE) * MINUTE;
    const lastCapture = () => Math.floor(Date.now() / MINUTE) * MINUTE;
    const profileMessages = () => recorder.messages.filter((m) => m.topic === "dlms/big/profile");
    const rows = () => profileMessages().flatMap((m) => JSON.parse(m.payload) as { ts: number }[]);
    await waitUntil(() => rows().at(-1)?.ts === lastCapture(), "the backfill to catch up", 240_000, 200);

    const ts = rows().map((r) => r.ts);
    expect(ts[0]).toBe(firstCapture);
    expect(ts).toEqual(Array.from({ length: ts.length }, (_, i) => firstCapture + i * MINUTE));
    expect(ts.length).toBeGreaterThanOrEqual(DAYS * 1440);

    // Live telemetry kept flowing during the backfill: polls of every meter, the backfilled one included,
    // arrived between the first and the last batch of rows, and none of their slots was skipped.
    const batches = profileMessages();
    const during = (meter: string) =>
      recorder.messages.filter(
        (m) => m.topic === `dlms/${meter}/telemetry` && m.at > batches[0]!.at && m.at < batches.at(-1)!.at,
      ).length;
    const spanMs = batches.at(-1)!.at - batches[0]!.at;
    console.log(`backfill of ${ts.length} rows over HDLC took ${spanMs} ms in ${batches.length} messages`);
    if (spanMs > 2000) for (const meter of ["big", "live1", "live2"]) expect(during(meter), meter).toBeGreaterThan(0);
    else console.log("skipped: interleaving check (the backfill took under 2 polls on this machine)");
    for (const meter of ["big", "live1", "live2"]) {
      const readings = recorder.telemetry(meter);
      const gaps = readings.slice(1).map((r, i) => r.ts - readings[i]!.ts);
      expect(servedEverySlot(readings, 1000), `${meter}: intervals ${gaps.join(",")}`).toBe(true);
    }
    const state = await apiMeters(port);
    expect(state.map((m) => [m.id, m.skippedSlots])).toEqual([
      ["big", 0],
      ["live1", 0],
      ["live2", 0],
    ]);
  }, 300_000);
});
