// E2E: a meter that goes away and comes back. Its breaker opens, a half-open trial succeeds once the meter is
// back, the breaker closes, its status returns to online and its readings resume on the same grid; a meter that
// drops the TCP connection in the middle of a frame is reconnected without losing its schedule for good.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  apiMeters,
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  inOrder,
  metricValue,
  record,
  scrape,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

const INTERVAL_MS = 1000;

describe("dlms-bridge run: a meter that comes back", () => {
  let broker: MosquittoHandle | undefined;
  const sims: RunningSimulator[] = [];

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await Promise.all(sims.splice(0).map((s) => s.close()));
    await broker?.stop();
  });

  it("opens the breaker while the meter is gone, closes it when it answers again, and resumes its readings", async () => {
    broker = await startMosquitto();
    const first = await startSimulator({ port: 0, seed: 71 });
    sims.push(first);
    const port = first.ports[0]!;
    const recorder = await record(broker.url);
    const bridge = await startBridge(
      bridgeEnv({
        mqttUrl: broker.url,
        dbPath: join(await tempDir(), "bridge.db"),
        meters: { phoenix: `hdlc://127.0.0.1:${port}?interval=1s&timeout=1s` },
        extra: { BREAKER_FAILURE_THRESHOLD: "2", BREAKER_OPEN_SECONDS: "1" },
      }),
    );
    const httpPort = await bridge.httpPort();
    await waitUntil(() => recorder.telemetry("phoenix").length >= 2, "first readings");

    // The meter vanishes: connection dropped, then refused.
    await first.close();
    sims.splice(sims.indexOf(first), 1);
    const goneAt = Date.now();
    await waitUntil(
      async () => metricValue(await scrape(httpPort), "dlms_bridge_meter_breaker_state", { meter: "phoenix" }) === 2,
      "the breaker to open",
    );
    await waitUntil(
      () => JSON.parse(recorder.last("dlms/phoenix/status")?.payload ?? "{}").status === "offline",
      "status offline",
    );
    const down = (await apiMeters(httpPort)).find((m) => m.id === "phoenix")!;
    expect(down).toMatchObject({ up: false, connected: false });
    expect(down.lastError).toMatch(/ECONNREFUSED|closed|refused/i);

    // Back on the same port.
    const second = await startSimulator({ port, seed: 71 });
    sims.push(second);
    const backAt = Date.now();
    await waitUntil(
      () => recorder.telemetry("phoenix").filter((r) => r.ts > backAt).length >= 3,
      "readings after the meter came back",
      20_000,
    );
    const samples = await scrape(httpPort);
    expect(metricValue(samples, "dlms_bridge_meter_breaker_state", { meter: "phoenix" })).toBe(0);
    expect(metricValue(samples, "dlms_bridge_meter_up", { meter: "phoenix" })).toBe(1);
    expect(metricValue(samples, "dlms_bridge_meter_connects_total", { meter: "phoenix", result: "ok" })).toBe(2);
    // The first failure is the read on the dropped association, then at least one refused connect.
    expect(
      metricValue(samples, "dlms_bridge_meter_connects_total", { meter: "phoenix", result: "error" }),
    ).toBeGreaterThanOrEqual(1);
    const up = (await apiMeters(httpPort)).find((m) => m.id === "phoenix")!;
    expect(up).toMatchObject({ up: true, connected: true, breaker: "closed", consecutiveFailures: 0 });

    // The breaker went closed -> open -> half-open -> (open -> half-open)* -> closed.
    const moves = bridge
      .logs()
      .filter((l) => l.meter === "phoenix" && l.event === "breaker")
      .map((l) => `${String(l.from)}>${String(l.to)}`);
    expect(moves[0]).toBe("closed>open");
    expect(moves.at(-1)).toBe("half-open>closed");
    // Status: online, offline while gone, online again; a disconnect request only after the offline status and
    // the connect request before the online one (docs/contracts.md, "Presence").
    const statuses = recorder.messages
      .filter((m) => m.topic === "dlms/phoenix/status")
      .map((m) => (JSON.parse(m.payload) as { status: string }).status);
    expect(statuses.filter((s, i) => i === 0 || s !== statuses[i - 1])).toEqual(["online", "offline", "online"]);
    const presence = recorder.messages
      .filter((m) => /^dlms\/phoenix\/(status|connect|disconnect)$/.test(m.topic))
      .map((m) =>
        m.topic.endsWith("status") ? (JSON.parse(m.payload) as { status: string }).status : m.topic.split("/")[2],
      )
      .filter((s, i, all) => i === 0 || s !== all[i - 1]);
    // The disconnect follows 2 s after the offline status's PUBACK; a meter back sooner never gets one.
    expect(presence.join(",")).toMatch(/^connect,online,offline,(disconnect,)?connect,online$/);
    expect(recorder.messages.filter((m) => m.topic.startsWith("dlms/phoenix/")).every((m) => !m.retain)).toBe(true);

    // Readings before and after the outage, none from while it was gone, still on the same grid, in order.
    const readings = recorder.telemetry("phoenix");
    expect(inOrder(readings)).toBe(true);
    expect(readings.filter((r) => r.ts > goneAt + 100 && r.ts < backAt)).toEqual([]);
    // The half-open trial runs when the open period ends, off the grid; the polls after it are back on the
    // meter's original grid (the schedule survived the outage).
    const before = readings.filter((r) => r.ts < goneAt);
    const after = readings.filter((r) => r.ts > backAt).slice(1);
    expect(after.length).toBeGreaterThanOrEqual(2);
    for (const r of [...before, ...after]) {
      const position = (r.ts - readings[0]!.ts) / INTERVAL_MS;
      expect(Math.abs(position - Math.round(position)), `grid position of ${r.ts}`).toBeLessThan(0.3);
    }
  }, 60_000);

  it("reconnects a meter that drops the connection mid-frame and keeps polling it", async () => {
    broker = await startMosquitto();
    // Every connection dies half-way through an answer after its first few (UA, AARE, attributes, a poll or
    // two): readings keep coming only if the bridge reconnects each time.
    const sim = await startSimulator({ port: 0, seed: 72, dropMidFrameAfter: 5 });
    sims.push(sim);
    const recorder = await record(broker.url);
    const bridge = await startBridge(
      bridgeEnv({
        mqttUrl: broker.url,
        dbPath: join(await tempDir(), "bridge.db"),
        meters: { flaky: `hdlc://127.0.0.1:${sim.ports[0]}?interval=1s&timeout=1s` },
      }),
    );
    const httpPort = await bridge.httpPort();
    await waitUntil(
      async () =>
        metricValue(await scrape(httpPort), "dlms_bridge_meter_connects_total", { meter: "flaky", result: "ok" }) >= 3,
      "three associations",
      20_000,
    );
    await waitUntil(() => recorder.telemetry("flaky").length >= 3, "readings from several associations");
    const readings = recorder.telemetry("flaky");
    expect(inOrder(readings)).toBe(true);
    expect(sim.meters[0]!.stats.connections).toBeGreaterThanOrEqual(3);
    const [flaky] = await apiMeters(httpPort);
    expect(flaky!.lastError).toMatch(/connection lost|closed/i);
  }, 45_000);
});
