// E2E 2: the broker stops mid-run and comes back on the same port. Every reading polled meanwhile waits in the
// outbox and arrives afterwards: no gap in any meter's grid of poll timestamps, no reordering, and as many as the
// bridge counted.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import { startTcpProxy, type TcpProxy } from "../publish/tcp-proxy.js";
import {
  apiMeters,
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
  tempDir,
  waitUntil,
} from "./harness.js";

const METERS = ["north", "south"] as const;
const INTERVAL_MS = 1000;
const OUTAGE_MS = 4000;

describe("dlms-bridge run: broker outage", () => {
  let broker: MosquittoHandle | undefined;
  let proxy: TcpProxy | undefined;
  let sim: RunningSimulator | undefined;

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await proxy?.close();
    await sim?.close();
    await broker?.stop();
  });

  it("delivers every reading polled while the broker was down, gap-free and in order per meter", async () => {
    broker = await startMosquitto();
    // The bridge reaches the broker through a relay, so the test can keep it away after the restart until the
    // recorder has subscribed again (the broker has no persistence: it forgets subscriptions).
    proxy = await startTcpProxy(broker.port);
    sim = await startSimulator({ count: METERS.length, port: 0, seed: 21 });
    const recorder = await record(broker.url);
    const dir = await tempDir();
    const bridge = await startBridge(
      bridgeEnv({
        mqttUrl: proxy.url,
        dbPath: join(dir, "bridge.db"),
        meters: Object.fromEntries(
          METERS.map((id, i) => [id, `hdlc://127.0.0.1:${sim!.ports[i]}?interval=1s&timeout=2s`]),
        ),
      }),
    );
    const httpPort = await bridge.httpPort();
    await waitUntil(() => METERS.every((id) => recorder.telemetry(id).length >= 2), "2 readings of each meter");

    proxy.block();
    await broker.kill();
    const downAt = Date.now();
    await waitUntil(
      async () => metricValue(await scrape(httpPort), "dlms_bridge_mqtt_connected") === 0,
      "the bridge to see the broker gone",
    );
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));
    // Readings polled during the outage are in the durable outbox, not lost.
    const during = await scrape(httpPort);
    expect(metricValue(during, "dlms_bridge_outbox_pending")).toBeGreaterThanOrEqual(METERS.length * 2);
    // Not ready without a broker (alive all the same: polling goes on).
    const readyz = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(readyz.status).toBe(503);
    expect(await readyz.text()).toMatch(/mqtt broker not connected/);

    await broker.restart();
    const upAt = Date.now();
    await recorder.resubscribe();
    proxy.unblock();

    // Read what arrived, then what the bridge counted: equal for every meter means every counted reading arrived.
    await waitUntil(
      async () => {
        const received = METERS.map((id) => recorder.telemetry(id).length);
        const samples = await scrape(httpPort);
        return METERS.every((id, i) => readingsCounted(samples, id) === received[i]);
      },
      "every counted reading to arrive",
      20_000,
    );

    const meters = await apiMeters(httpPort);
    for (const id of METERS) {
      const readings = recorder.telemetry(id);
      const skipped = meters.find((m) => m.id === id)!.skippedSlots;
      // Polling never depended on the broker: the only holes allowed are slots the bridge itself skipped (load).
      expect(missingSlots(readings, INTERVAL_MS)).toBeLessThanOrEqual(skipped);
      expect(inOrder(readings)).toBe(true);
      expect(readings.every((r) => r.meter === id)).toBe(true);
      // The outage really produced readings that could only arrive after the broker came back.
      const polledWhileDown = readings.filter((r) => r.ts > downAt + 200 && r.ts < upAt);
      expect(polledWhileDown.length, `readings of ${id} polled while the broker was down`).toBeGreaterThanOrEqual(3);
      const arrivals = recorder.messages.filter(
        (m) => m.topic === `dlms/${id}/telemetry` && polledWhileDown.some((r) => m.payload.includes(`"ts":${r.ts},`)),
      );
      expect(arrivals.every((m) => m.at >= upAt)).toBe(true);
    }
    // The outbox empties once the PUBACKs are in.
    await waitUntil(
      async () => metricValue(await scrape(httpPort), "dlms_bridge_outbox_pending") === 0,
      "the outbox to drain",
    );
    // The restarted broker lost every retained message (no persistence): the bridge published its state again.
    // Meter status and attributes are not retained (docs/contracts.md, "Presence"): nothing else is.
    const late = await record(broker.url);
    await waitUntil(() => late.last("dlms/bridge/state") !== undefined, "retained bridge state after the restart");
    expect(late.last("dlms/bridge/state")).toMatchObject({ payload: "online", retain: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(late.messages.filter((m) => m.retain).map((m) => m.topic)).toEqual(["dlms/bridge/state"]);
    for (const id of METERS) {
      expect(JSON.parse(recorder.last(`dlms/${id}/status`)!.payload)).toEqual({ meter: id, status: "online" });
    }
  }, 90_000);
});
