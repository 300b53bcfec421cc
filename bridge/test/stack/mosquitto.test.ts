// The real mosquitto/config/mosquitto.conf in a real broker (the Debian mosquitto 2 binary of `make test`): every
// option is accepted, and the delivery chain's promise holds: a QoS 1 reading published while the gateway is away
// survives a broker restart and reaches the gateway when it comes back with its fixed id and persistent session.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { telemetryPayload, telemetryTopic } from "../../src/publish/payloads.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import { readJson, readText } from "./stack-files.js";

const conf = readText("mosquitto", "config", "mosquitto.conf");
const gateway = readJson<{ broker: { clientId: string; version: number; cleanSession: boolean; keepAlive: number } }>(
  "tb-gateway",
  "config",
  "mqtt.json",
).broker;

/** Our config on the harness's loopback listener: only the listener and the data directory are replaced. */
function ourConfig(dataDir: string): string {
  return conf
    .split("\n")
    .filter((line) => !/^\s*(listener|protocol)\b/.test(line))
    .map((line) => (/^\s*persistence_location\b/.test(line) ? `persistence_location ${dataDir}/` : line))
    .join("\n");
}

function option(name: string): string | undefined {
  return new RegExp(`^${name}\\s+(\\S+)`, "m").exec(conf)?.[1];
}

describe("mosquitto.conf", () => {
  it("listens on 1884, persists to the compose volume and queues enough for a long gateway outage", () => {
    expect(option("listener")).toBe("1884");
    expect(option("persistence")).toBe("true");
    expect(option("persistence_location")).toBe("/mosquitto/data/");
    expect(readText("docker-compose.yml")).toContain("mosquitto-data:/mosquitto/data");
    expect(Number(option("max_queued_messages"))).toBeGreaterThanOrEqual(100_000);
    expect(Number(option("max_inflight_messages"))).toBeGreaterThan(0);
    expect(option("persistent_client_expiration")).toMatch(/^\d+[hdwmy]$/);
  });

  describe("in a real broker", () => {
    let broker: MosquittoHandle;
    let dataDir: string;
    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "mosquitto-data-"));
      // Started as root, mosquitto drops to its own user before writing the database (the image chowns its volume).
      await chmod(dataDir, 0o777);
      broker = await startMosquitto({ extraConfig: ourConfig(dataDir) });
    });
    afterAll(async () => {
      await broker?.stop();
      await rm(dataDir, { recursive: true, force: true });
    });

    const gatewayOptions = () => ({
      clientId: gateway.clientId,
      clean: gateway.cleanSession,
      protocolVersion: gateway.version as 4 | 5,
      keepalive: gateway.keepAlive,
      reconnectPeriod: 0,
    });

    it("keeps a reading for the away gateway across a broker restart", async () => {
      // 1. The gateway subscribes once, as the connector does on connect, then goes away (restart, crash...).
      const gw1 = await mqtt.connectAsync(broker.url, gatewayOptions());
      await gw1.subscribeAsync("dlms/+/telemetry", { qos: 1 });
      await gw1.endAsync();

      // 2. The bridge publishes a reading with QoS 1 while the gateway is away.
      const reading = { meter: "sim1", ts: 1_764_158_400_000, values: { voltage: 230.1, active_energy: 1234.5 } };
      const bridge = await mqtt.connectAsync(broker.url, { clientId: "dlms-bridge-test", reconnectPeriod: 0 });
      await bridge.publishAsync(telemetryTopic("sim1"), telemetryPayload(reading), { qos: 1 });
      await bridge.endAsync();

      // 3. The broker restarts (persistence saves its queues on shutdown).
      await broker.restart();

      // 4. The gateway comes back with the same id and clean session false: the queued reading is delivered.
      const gw2 = mqtt.connect(broker.url, gatewayOptions());
      try {
        // Listen before the CONNACK: the broker sends the queued message right after it.
        const message = new Promise<[string, string]>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("queued reading not delivered within 5 s")), 5000);
          gw2.once("message", (t, p) => {
            clearTimeout(timer);
            resolve([t, p.toString()]);
          });
        });
        const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
          gw2.once("connect", resolve);
          gw2.once("error", reject);
        });
        expect(connack.sessionPresent).toBe(true);
        const [topic, payload] = await message;
        expect(topic).toBe("dlms/sim1/telemetry");
        expect(JSON.parse(payload)).toEqual({
          meter: "sim1",
          ts: reading.ts,
          values: { voltage: 230.1, active_energy: 1234.5 },
        });
      } finally {
        await gw2.endAsync();
      }
    });
  });
});
