// E2E 3: the broker goes down so readings pile up in the outbox, then the bridge is SIGKILLed. A new bridge on the
// same DB_PATH delivers every stored reading once the broker is back: nothing the first bridge counted is lost.
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  inOrder,
  metricValue,
  missingSlots,
  readingsCounted,
  record,
  scrape,
  sleep,
  startBridge,
  type Telemetry,
  tempDir,
  waitUntil,
} from "./harness.js";

const METERS = ["east", "west"] as const;
const INTERVAL_MS = 1000;

interface StoredRow {
  meter: string;
  topic: string;
  payload: string;
}

/** The outbox as the killed bridge left it on disk (opened directly, as an operator would). */
function outboxRows(dbPath: string): StoredRow[] {
  const db = new Database(dbPath);
  try {
    return db.prepare("SELECT meter, topic, payload FROM outbox ORDER BY id").all() as StoredRow[];
  } finally {
    db.close();
  }
}

describe("dlms-bridge run: SIGKILL and restart on the same database", () => {
  let broker: MosquittoHandle | undefined;
  let sim: RunningSimulator | undefined;

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await sim?.close();
    await broker?.stop();
  });

  it("delivers after the restart every reading the killed bridge stored while the broker was down", async () => {
    broker = await startMosquitto();
    sim = await startSimulator({ count: METERS.length, port: 0, seed: 33 });
    const recorder = await record(broker.url);
    const dbPath = join(await tempDir(), "bridge.db");
    const env = bridgeEnv({
      mqttUrl: broker.url,
      dbPath,
      meters: Object.fromEntries(
        METERS.map((id, i) => [id, `hdlc://127.0.0.1:${sim!.ports[i]}?interval=1s&timeout=2s`]),
      ),
    });

    const first = await startBridge(env);
    const firstPort = await first.httpPort();
    await waitUntil(() => METERS.every((id) => recorder.telemetry(id).length >= 2), "2 readings of each meter");

    await broker.kill();
    await waitUntil(
      async () => metricValue(await scrape(firstPort), "dlms_bridge_mqtt_connected") === 0,
      "the first bridge to see the broker gone",
    );
    await sleep(3500);
    const before = await scrape(firstPort);
    const counted = Object.fromEntries(METERS.map((id) => [id, readingsCounted(before, id)]));
    const pending = metricValue(before, "dlms_bridge_outbox_pending");
    expect(pending).toBeGreaterThanOrEqual(METERS.length * 3);
    // Every reading counted above is committed within the writer's 50 ms batch window; then the crash.
    await sleep(300);
    first.child.kill("SIGKILL");
    expect(await first.exited).toEqual({ code: null, signal: "SIGKILL" });
    const killedAt = Date.now();

    const rows = outboxRows(dbPath);
    expect(rows.length).toBeGreaterThanOrEqual(pending);
    // Presence events (dlms/<meter>/connect|disconnect) share the outbox; the readings are the rest.
    const stored = rows.filter((row) => !/\/(connect|disconnect)$/.test(row.topic));
    const storedTs = new Map<string, number[]>(METERS.map((id) => [id, []]));
    for (const row of stored) {
      const payload = JSON.parse(row.payload) as Telemetry;
      expect(row.topic).toBe(`dlms/${row.meter}/telemetry`);
      expect(payload.meter).toBe(row.meter);
      storedTs.get(row.meter)!.push(payload.ts);
    }
    for (const id of METERS) {
      // What the recorder got before the outage plus what is on disk covers everything the bridge counted.
      const known = new Set([...recorder.telemetry(id).map((r) => r.ts), ...storedTs.get(id)!]);
      expect(known.size, `readings of ${id} received or stored`).toBeGreaterThanOrEqual(counted[id]!);
      expect(storedTs.get(id)!.length).toBeGreaterThanOrEqual(3);
    }

    await broker.restart();
    await recorder.resubscribe();
    const second = await startBridge(env);
    await second.httpPort();
    await waitUntil(
      () =>
        METERS.every((id) => {
          const received = new Set(recorder.telemetry(id).map((r) => r.ts));
          return storedTs.get(id)!.every((ts) => received.has(ts));
        }),
      "every stored reading to arrive from the second bridge",
      20_000,
    );
    // And the second bridge keeps polling and publishing on top of the backlog.
    await waitUntil(
      () => METERS.every((id) => recorder.telemetry(id).some((r) => r.ts > killedAt)),
      "fresh readings from the second bridge",
    );

    for (const id of METERS) {
      const all = recorder.telemetry(id);
      // Backlog first (outbox id order), then fresh readings: ts never goes back in arrival order.
      expect(inOrder(all)).toBe(true);
      // Everything the first bridge polled is there with no hole in its grid (only the crash gap is allowed),
      // and at least as many readings as it had counted before the kill.
      const firstRun = all.filter((r) => r.ts < killedAt);
      expect(firstRun.length).toBeGreaterThanOrEqual(counted[id]!);
      expect(missingSlots(firstRun, INTERVAL_MS)).toBe(0);
    }
  }, 90_000);
});
