// E2E 5 and 6: start-up with a broken configuration (exit 2, every error named, no secret printed) and a clean
// SIGTERM stop (exit 0 within seconds, retained offline status for every meter and for the bridge).
import { existsSync } from "node:fs";
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
  record,
  scrape,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

describe("dlms-bridge run: configuration errors", () => {
  afterEach(async () => {
    await cleanupProcesses();
  });

  it("exits with status 2 listing every error at once, without printing any password", async () => {
    const goodPassword = "Fv8-valid-meter-pw";
    const urlPassword = "Hn3-url-inline-pw";
    const mqttPassword = "Rb5-mqtt-broker-pw";
    const dbPath = join(await tempDir(), "never-created.db");
    const bridge = await startBridge({
      METER_SERIAL: "serial://127.0.0.1:4059", // bad transport
      METER_FARPORT: "hdlc://127.0.0.1:70000", // bad port
      METER_BADOBIS: "hdlc://127.0.0.1:4059?registers=voltage:1-0:32.x.0", // bad OBIS
      METER_NOPASS: "hdlc://127.0.0.1:4059?auth=low", // LLS without a password
      METER_INLINE: `hdlc://127.0.0.1:abc?auth=low&client=1&password=${urlPassword}`, // bad port, inline password
      METER_VALID: "hdlc://127.0.0.1:4059?auth=low&client=1", // fine, with its password in the environment
      METER_VALID_PASSWORD: goodPassword,
      MQTT_URL: "mqtt://127.0.0.1:1",
      MQTT_PASSWORD: mqttPassword, // without MQTT_USERNAME
      HTTP_PORT: "not-a-port",
      DB_PATH: dbPath,
    });
    const exit = await Promise.race([
      bridge.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 20 s")), 20_000)),
    ]);
    expect(exit).toEqual({ code: 2, signal: null });

    const errors = bridge.stderr;
    expect(errors).toMatch(/invalid configuration \(7 error\(s\)\)/);
    expect(errors).toMatch(/METER_SERIAL: transport 'serial' is not supported/);
    expect(errors).toMatch(/METER_FARPORT: port 70000 is outside 1\.\.65535/);
    expect(errors).toMatch(/METER_BADOBIS: register 'voltage': OBIS code '1-0:32\.x\.0' is not/);
    expect(errors).toMatch(/METER_NOPASS: auth=low needs a password: set METER_NOPASS_PASSWORD/);
    expect(errors).toMatch(/METER_INLINE: port 'abc' is not a number/);
    expect(errors).toMatch(/MQTT_PASSWORD: is set but MQTT_USERNAME is not/);
    expect(errors).toMatch(/HTTP_PORT: 'not-a-port' is not an integer/);
    expect(errors).not.toMatch(/METER_VALID/);
    for (const secret of [goodPassword, urlPassword, mqttPassword]) {
      expect(bridge.stdout + errors).not.toContain(secret);
    }
    // Nothing started: no database file, no "bridge started".
    expect(existsSync(dbPath)).toBe(false);
    expect(bridge.logs()).toEqual([]);
  }, 30_000);
});

describe("dlms-bridge run: SIGTERM", () => {
  let broker: MosquittoHandle | undefined;
  const sims: RunningSimulator[] = [];

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await Promise.all(sims.splice(0).map((s) => s.close()));
    await broker?.stop();
  });

  it("exits 0 within seconds: offline status, then the disconnect, for every meter; bridge offline; outbox flushed", async () => {
    const meters = ["left", "right"];
    broker = await startMosquitto();
    const sim = await startSimulator({ count: meters.length, port: 0, seed: 55 });
    sims.push(sim);
    const recorder = await record(broker.url);
    const dbPath = join(await tempDir(), "bridge.db");
    const bridge = await startBridge(
      bridgeEnv({
        mqttUrl: broker.url,
        dbPath,
        meters: Object.fromEntries(
          meters.map((id, i) => [id, `hdlc://127.0.0.1:${sim.ports[i]}?interval=1s&timeout=2s`]),
        ),
      }),
    );
    await bridge.httpPort();
    await waitUntil(
      () => meters.every((id) => recorder.telemetry(id).length >= 2 && recorder.last(`dlms/${id}/status`)),
      "readings and online status of each meter",
    );
    expect(recorder.last("dlms/bridge/state")?.payload).toBe("online");

    const signalledAt = Date.now();
    bridge.child.kill("SIGTERM");
    const exit = await Promise.race([
      bridge.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 10 s")), 10_000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(bridge.stderr).toBe("");

    // A subscriber arriving after the stop sees only retained messages: the bridge state, nothing of a meter.
    const late = await record(broker.url);
    await waitUntil(() => late.last("dlms/bridge/state") !== undefined, "retained state after the stop");
    expect(late.last("dlms/bridge/state")).toMatchObject({ payload: "offline", retain: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(late.messages.filter((m) => m.retain).map((m) => m.topic)).toEqual(["dlms/bridge/state"]);
    // The live subscriber saw each meter go offline after its readings, then its disconnect request at least the
    // settle delay (2 s) later, and the bridge go offline last.
    const lastIndex = (topic: string) => recorder.messages.map((m) => m.topic).lastIndexOf(topic);
    await waitUntil(() => recorder.last("dlms/bridge/state")?.payload === "offline", "live bridge state offline");
    const bridgeOffline = lastIndex("dlms/bridge/state");
    for (const id of meters) {
      const offline = lastIndex(`dlms/${id}/status`);
      expect(JSON.parse(recorder.messages[offline]!.payload)).toEqual({ meter: id, status: "offline" });
      expect(recorder.messages[offline]!.retain).toBe(false);
      expect(offline).toBeGreaterThan(lastIndex(`dlms/${id}/telemetry`));
      // The gateway's connect/disconnect requests: connect before the first reading, disconnect after the offline
      // status, delivered through the outbox (non-retained) before the bridge went offline.
      const connect = recorder.messages.findIndex((m) => m.topic === `dlms/${id}/connect`);
      const disconnect = lastIndex(`dlms/${id}/disconnect`);
      expect(connect).toBeGreaterThanOrEqual(0);
      expect(connect).toBeLessThan(recorder.messages.findIndex((m) => m.topic === `dlms/${id}/telemetry`));
      expect(JSON.parse(recorder.messages[disconnect]!.payload)).toEqual({ meter: id });
      expect(recorder.messages[disconnect]!.retain).toBe(false);
      expect(disconnect).toBeGreaterThan(offline);
      expect(recorder.messages[disconnect]!.at - recorder.messages[offline]!.at).toBeGreaterThanOrEqual(1900);
      expect(disconnect).toBeLessThan(bridgeOffline);
      expect(recorder.messages.slice(disconnect + 1).filter((m) => m.topic.startsWith(`dlms/${id}/`))).toEqual([]);
    }

    // A clean stop flushed the outbox: every stored reading was acknowledged by the broker.
    const db = new Database(dbPath, { readonly: true });
    try {
      expect((db.prepare("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n).toBe(0);
    } finally {
      db.close();
    }
    expect(bridge.logs().some((l) => l.msg === "bridge stopped")).toBe(true);
  }, 45_000);

  it("exits 0 within seconds with the broker down and a meter mid-request; the next start delivers what was kept", async () => {
    broker = await startMosquitto();
    const healthy = await startSimulator({ port: 0, seed: 56 });
    const silent = await startSimulator({ port: 0, seed: 57, silence: true });
    sims.push(healthy, silent);
    const recorder = await record(broker.url);
    const dbPath = join(await tempDir(), "bridge.db");
    const env = bridgeEnv({
      mqttUrl: broker.url,
      dbPath,
      meters: {
        live: `hdlc://127.0.0.1:${healthy.ports[0]}?interval=1s&timeout=2s`,
        // Default 5 s timeout: a request is still waiting for an answer when SIGTERM arrives.
        mute: `hdlc://127.0.0.1:${silent.ports[0]}?interval=1s`,
      },
    });
    const first = await startBridge(env);
    const httpPort = await first.httpPort();
    await waitUntil(() => recorder.telemetry("live").length >= 1, "a first reading");
    await broker.kill();
    await waitUntil(
      async () => metricValue(await scrape(httpPort), "dlms_bridge_outbox_pending") >= 2,
      "readings kept in the outbox while the broker is down",
    );

    const signalledAt = Date.now();
    first.child.kill("SIGTERM");
    const exit = await Promise.race([
      first.exited,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no exit within 10 s")), 10_000)),
    ]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    const kept = outboxTimestamps(dbPath);
    expect(kept.length).toBeGreaterThanOrEqual(2);

    await broker.restart();
    await recorder.resubscribe();
    const second = await startBridge(env);
    await second.httpPort();
    await waitUntil(
      () => kept.every((ts) => recorder.telemetry("live").some((r) => r.ts === ts)),
      "the readings kept at the stop to arrive from the next start",
      20_000,
    );
    expect(inOrder(recorder.telemetry("live"))).toBe(true);
  }, 60_000);
});

/** ts of the telemetry rows left in the outbox of a stopped bridge. */
function outboxTimestamps(dbPath: string): number[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare("SELECT payload FROM outbox WHERE topic LIKE '%/telemetry' ORDER BY id").all() as {
      payload: string;
    }[];
    return rows.map((row) => (JSON.parse(row.payload) as { ts: number }).ts);
  } finally {
    db.close();
  }
}
