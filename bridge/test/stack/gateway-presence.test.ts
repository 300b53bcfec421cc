// Presence end to end: the bridge (in process, real simulators, real SQLite outbox) publishes to a real Mosquitto,
// and a model of the ThingsBoard gateway (test/helpers/gateway-model.ts: subscribes as tb-gateway/config/mqtt.json
// says, data connects a device after the data path's delay, disconnect requests act at once, SIGINT disconnects
// all, retained messages come back at every re-subscription) decides who is connected. An offline meter must end
// disconnected with status "offline", also across gateway restarts; an online one connected with its telemetry.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type BridgeApp, startBridge } from "../../src/app.js";
import { loadConfig } from "../../src/config/load.js";
import { createLogger } from "../../src/log.js";
import { presencePayload, presenceTopic, statusPayload, statusTopic } from "../../src/publish/payloads.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { waitUntil } from "../e2e/harness.js";
import { GatewayModel } from "../helpers/gateway-model.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";

const SETTLE_MS = 1000;
const REPEAT_MS = 2500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("presence towards the gateway, against a model of its rules", () => {
  let broker: MosquittoHandle;
  let dir: string;
  const sims: RunningSimulator[] = [];
  const apps: BridgeApp[] = [];
  const gateways: GatewayModel[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "gw-presence-"));
  });
  // A broker per test: the gateway's persistent session must not carry messages from one test into the next.
  beforeEach(async () => {
    broker = await startMosquitto();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.stop(500);
    for (const gw of gateways.splice(0)) await gw.stop(false);
    for (const sim of sims.splice(0)) await sim.close();
    await broker?.stop();
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function gateway(): Promise<GatewayModel> {
    const gw = new GatewayModel(broker.url);
    gateways.push(gw);
    await gw.start();
    return gw;
  }

  async function simulator(): Promise<RunningSimulator> {
    const sim = await startSimulator({ count: 1, port: 0 });
    sims.push(sim);
    return sim;
  }

  async function bridge(meters: Record<string, RunningSimulator>, name: string): Promise<BridgeApp> {
    const env: Record<string, string> = {
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: `bridge-${name}`,
      DB_PATH: join(dir, `${name}.db`),
      HTTP_PORT: "0",
      HTTP_HOST: "127.0.0.1",
    };
    for (const [id, sim] of Object.entries(meters)) {
      env[`METER_${id.toUpperCase()}`] = `hdlc://127.0.0.1:${sim.ports[0]}?interval=1s&timeout=1s`;
    }
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    const app = await startBridge(loaded.config, createLogger("silent"), {
      presence: { settleMs: SETTLE_MS, repeatMs: REPEAT_MS },
    });
    apps.push(app);
    return app;
  }

  /** Holds for `ms`: the state is not a passing moment (the data path is 0.3 s, the settle delay 1 s). */
  async function holds(condition: () => boolean, ms: number, what: string): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      expect(condition(), what).toBe(true);
      await sleep(50);
    }
  }

  it("an offline meter ends disconnected with status offline, across SIGINT and hard-kill restarts of the gateway", async () => {
    const gw = await gateway();
    const [up, down] = [await simulator(), await simulator()];
    await bridge({ up, down }, "restarts");
    await waitUntil(
      () => gw.isConnected("up") && gw.isConnected("down") && (gw.telemetry.get("down")?.length ?? 0) >= 1,
      "both meters connected with telemetry",
    );

    await down.close(); // the meter goes away
    await waitUntil(() => !gw.isConnected("down"), "meter 'down' disconnected", 20_000);
    expect(gw.attributes.get("down")?.status).toBe("offline");
    await holds(() => !gw.isConnected("down") && gw.isConnected("up"), 2 * SETTLE_MS, "down stays disconnected");

    for (const graceful of [true, false]) {
      await gw.stop(graceful);
      await sleep(300);
      await gw.start();
      await waitUntil(() => gw.isConnected("up"), "meter 'up' connected again after the gateway restart");
      await holds(
        () => !gw.isConnected("down"),
        2 * SETTLE_MS,
        `down disconnected after restart (graceful ${graceful})`,
      );
    }
    const telemetry = gw.telemetry.get("up")!;
    expect(telemetry.length).toBeGreaterThanOrEqual(3);
    for (const { values } of telemetry) expect(Object.keys(values)).not.toContain("meter");
    expect(gw.attributes.get("up")).toMatchObject({ status: "online", transport: "hdlc" });
    expect(gw.attributes.get("down")?.status).toBe("offline");
  }, 90_000);

  it("a meter that went offline while the gateway was away ends disconnected once it is back", async () => {
    const gw = await gateway();
    const [up, down] = [await simulator(), await simulator()];
    await bridge({ up, down }, "away");
    await waitUntil(() => gw.isConnected("up") && gw.isConnected("down"), "both meters connected");

    await gw.stop(false); // the gateway is away (hard kill: its state file still lists both)
    await down.close();
    await sleep(6000); // status offline and the disconnect are queued for it, back to back
    await gw.start();
    // Re-added from its state file and by the queued status (after the queued disconnect): the next repeated
    // disconnect, at most REPEAT_MS later, ends it.
    await sleep(REPEAT_MS + 1000);
    await waitUntil(() => !gw.isConnected("down"), "meter 'down' disconnected", 10_000);
    expect(gw.eventsOf("down").at(-1)).toMatchObject({ kind: "disconnect", cause: "request" });
    await holds(() => !gw.isConnected("down") && gw.isConnected("up"), 2 * SETTLE_MS, "down stays disconnected");
    expect(gw.attributes.get("down")?.status).toBe("offline");
  }, 90_000);

  it("clears status/attributes an older version left retained, so a gateway restart does not revive the meter", async () => {
    // The older version, with the gateway running: retained status and attributes of a meter since removed.
    const gw = await gateway();
    const old = await mqtt.connectAsync(broker.url, { clientId: "old-bridge" });
    await old.publishAsync(statusTopic("ghost"), statusPayload("ghost", true), { qos: 1, retain: true });
    await old.publishAsync("dlms/ghost/attributes", '{"meter":"ghost","serial_number":"1"}', { qos: 1, retain: true });
    await old.endAsync();
    await waitUntil(() => gw.isConnected("ghost"), "ghost connected by the old version's status");
    await gw.stop(true); // SIGINT: ghost disconnected, state empty

    const up = await simulator();
    await bridge({ up }, "cleanup");
    const probe = await mqtt.connectAsync(broker.url, { clientId: "probe" });
    const retained: string[] = [];
    probe.on("message", (topic, payload, packet) => {
      if (packet.retain && payload.length > 0) retained.push(topic);
    });
    await waitUntil(async () => {
      retained.length = 0;
      await probe.subscribeAsync(["dlms/+/status", "dlms/+/attributes"], { qos: 1 });
      await sleep(200);
      await probe.unsubscribeAsync(["dlms/+/status", "dlms/+/attributes"]);
      return retained.length === 0;
    }, "no retained status/attributes left");
    await probe.endAsync();

    await gw.start(); // re-subscribes: nothing retained comes back
    await waitUntil(() => gw.isConnected("up"), "meter 'up' connected");
    await holds(() => !gw.isConnected("ghost"), 1000, "ghost not revived");
    expect(gw.eventsOf("ghost").map((e) => `${e.kind}:${e.cause}`)).toEqual(["connect:data", "disconnect:stop"]);
  }, 60_000);

  it("the model tells the old sequence apart: retained status and a disconnect right after it leave the meter connected", async () => {
    const gw = await gateway();
    const old = await mqtt.connectAsync(broker.url, { clientId: "old-sequence" });
    const retained = { qos: 1 as const, retain: true };
    await old.publishAsync(presenceTopic("m1", true), presencePayload("m1"), { qos: 1 });
    await old.publishAsync(statusTopic("m1"), statusPayload("m1", true), retained);
    await waitUntil(() => gw.isConnected("m1"), "m1 connected");
    // Before: status offline (retained) and at once the disconnect.
    await old.publishAsync(statusTopic("m1"), statusPayload("m1", false), retained);
    await old.publishAsync(presenceTopic("m1", false), presencePayload("m1"), { qos: 1 });
    await sleep(1000);
    expect(gw.eventsOf("m1").map((e) => `${e.kind}:${e.cause}`)).toEqual([
      "connect:request",
      "disconnect:request",
      "connect:data",
    ]);
    expect(gw.isConnected("m1")).toBe(true);
    // And a gateway restart (SIGINT) brings the retained status back, which connects m1 again.
    await gw.stop(true);
    await gw.start();
    await waitUntil(() => gw.isConnected("m1"), "m1 revived by the retained status");
    await old.publishAsync(statusTopic("m1"), "", retained);
    await old.endAsync();
  }, 30_000);
});
