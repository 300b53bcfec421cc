// The stack as `make up` wires it, without Docker: the simulator with its CLI defaults, the bridge with the
// METER_SIM1 line of .env.example, Mosquitto with mosquitto/config/mosquitto.conf, and in place of the ThingsBoard
// gateway an MQTT client that connects and converts exactly as tb-gateway/config/mqtt.json tells the gateway's
// JSON converter to. What comes out is what ThingsBoard would store for device "sim1".
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REGISTER_SETS } from "../../src/config/register-sets.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { cleanupProcesses, startBridge, waitUntil } from "../e2e/harness.js";
import { type ConverterConfig, convertJson } from "../helpers/gateway-converter.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import { expressionsIn, parseEnvFile, readJson, readText, resolveExpression, topicMatches } from "./stack-files.js";

interface Mapping {
  topicFilter: string;
  subscriptionQos: number;
  converter: ConverterConfig;
}
interface Request {
  topicFilter: string;
  deviceInfo: { deviceNameExpression: string };
}
interface Connector {
  broker: { clientId: string; version: number; cleanSession: boolean; keepAlive: number };
  dataMapping: Mapping[];
  requestsMapping: { connectRequests: Request[]; disconnectRequests: Request[] };
}

const connector = readJson<Connector>("tb-gateway", "config", "mqtt.json");

/** What ThingsBoard would hold per device after the gateway's conversion. */
interface Device {
  profile: string | undefined;
  telemetry: Array<{ ts: number; values: Record<string, unknown> }>;
  attributes: Record<string, unknown>;
}

/** The gateway's JSON converter (test/helpers/gateway-converter.ts) with the mappings of mqtt.json. */
function convert(devices: Map<string, Device>, topic: string, text: string): void {
  for (const mapping of connector.dataMapping.filter((m) => topicMatches(m.topicFilter, topic))) {
    const converted = convertJson(mapping.converter, JSON.parse(text), Date.now());
    const name = String(converted.deviceName);
    const device = devices.get(name) ?? { profile: converted.deviceType, telemetry: [], attributes: {} };
    devices.set(name, device);
    Object.assign(device.attributes, converted.attributes);
    device.telemetry.push(...converted.telemetry);
  }
}

/** A user's own register, added in .env alone: the voltage of phase 2 under a key no register set has. */
const CUSTOM_KEY = "l2_volts";

describe("simulator -> bridge -> Mosquitto -> gateway mapping, as compose wires them", () => {
  let broker: MosquittoHandle;
  let sim: RunningSimulator;
  let gateway: MqttClient;
  let dataDir: string;
  const devices = new Map<string, Device>();
  /** Device connect/disconnect the gateway would send to ThingsBoard, in order. */
  const presence: Array<{ event: "connect" | "disconnect"; device: string }> = [];
  let startedAt: number;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "stack-live-"));
    await chmod(dataDir, 0o777); // mosquitto started as root writes its database as user mosquitto
    const conf = readText("mosquitto", "config", "mosquitto.conf")
      .split("\n")
      .filter((line) => !/^\s*(listener|protocol)\b/.test(line))
      .map((line) => (/^\s*persistence_location\b/.test(line) ? `persistence_location ${dataDir}/` : line))
      .join("\n");
    broker = await startMosquitto({ extraConfig: conf });
    // `dlms-bridge sim --port 4059` of the compose simulator service: one meter, every other option at its default.
    sim = await startSimulator({ count: 1, port: 0 });

    gateway = await mqtt.connectAsync(broker.url, {
      clientId: connector.broker.clientId,
      clean: connector.broker.cleanSession,
      protocolVersion: connector.broker.version as 4 | 5,
      keepalive: connector.broker.keepAlive,
      reconnectPeriod: 0,
    });
    gateway.on("message", (topic, payload) => {
      // As mqtt_connector.py: a data mapping wins; otherwise connect handlers, then disconnect handlers, by topic.
      if (connector.dataMapping.some((m) => topicMatches(m.topicFilter, topic))) {
        convert(devices, topic, payload.toString());
        return;
      }
      for (const event of ["connect", "disconnect"] as const) {
        const handler = connector.requestsMapping[`${event}Requests`].find((r) => topicMatches(r.topicFilter, topic));
        if (!handler) continue;
        const expr = expressionsIn(handler.deviceInfo.deviceNameExpression)[0]!;
        presence.push({ event, device: String(resolveExpression(JSON.parse(payload.toString()), expr)) });
        return;
      }
    });
    for (const m of connector.dataMapping) await gateway.subscribeAsync(m.topicFilter, { qos: m.subscriptionQos as 1 });
    for (const r of [...connector.requestsMapping.connectRequests, ...connector.requestsMapping.disconnectRequests])
      await gateway.subscribeAsync(r.topicFilter, { qos: 1 });

    // The bridge with .env.example's active lines; only the simulator's address and the poll period differ.
    const env = Object.fromEntries(
      parseEnvFile(readText(".env.example"))
        .filter((e) => !e.commented)
        .map((e) => [e.name, e.value]),
    );
    const sim1 = new URL(env.METER_SIM1!.replace(/^hdlc:/, "http:"));
    sim1.host = `127.0.0.1:${sim.ports[0]}`;
    sim1.searchParams.set("interval", "1s");
    sim1.searchParams.set("registers", `default,${CUSTOM_KEY}:1-0:52.7.0`);
    startedAt = Date.now();
    const bridge = await startBridge({
      ...env,
      METER_SIM1: sim1.toString().replace(/^http:/, "hdlc:"),
      MQTT_URL: broker.url,
      MQTT_CLIENT_ID: "dlms-bridge", // as docker-compose.yml sets it
      DB_PATH: join(dataDir, "bridge.db"),
      HTTP_PORT: "0",
    });
    await bridge.httpPort();
    await waitUntil(
      () =>
        (devices.get("sim1")?.telemetry.length ?? 0) >= 3 &&
        devices.get("sim1")?.attributes.serial_number !== undefined &&
        devices.get("sim1")?.attributes.status !== undefined &&
        presence.length > 0,
      "3 converted readings, the attributes, the status and the connect event of sim1",
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    await gateway?.endAsync();
    await cleanupProcesses();
    await sim?.close();
    await broker?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("creates device sim1 with the DLMS meter profile and no other device", () => {
    expect([...devices.keys()]).toEqual(["sim1"]);
    expect(devices.get("sim1")!.profile).toBe("DLMS meter");
  });

  it("stores V, A, Hz, W, Wh and the user's own key as numbers at the bridge's read time, and no meter/ts keys", () => {
    const device = devices.get("sim1")!;
    const keys = [...REGISTER_SETS.default!.map((r) => r.key), CUSTOM_KEY];
    for (const { ts, values } of device.telemetry) {
      expect(Object.keys(values).sort()).toEqual([...keys].sort());
      for (const key of keys) expect(typeof values[key], key).toBe("number");
      expect(values[CUSTOM_KEY]).toBeGreaterThan(150);
      expect(ts).toBeGreaterThanOrEqual(startedAt - 1000);
      expect(ts).toBeLessThanOrEqual(Date.now());
      expect(values.voltage).toBeGreaterThan(150);
      expect(values.voltage).toBeLessThan(300);
      expect(values.frequency).toBeGreaterThan(45);
      expect(values.frequency).toBeLessThan(65);
    }
    const energy = device.telemetry.map((t) => t.values.active_energy as number);
    expect([...energy].sort((a, b) => a - b)).toEqual(energy); // a meter's energy register never goes back
  });

  it("sets the attributes and units the bridge publishes, and status online", () => {
    const attrs = devices.get("sim1")!.attributes;
    expect(attrs.status).toBe("online");
    expect(attrs.serial_number).toMatch(/\S/);
    expect(attrs.transport).toBe("hdlc");
    expect(attrs).toMatchObject({ unit_voltage: "V", unit_current: "A", unit_frequency: "Hz", unit_active_power: "W" });
    expect(attrs.unit_active_energy).toMatch(/^k?Wh$/);
    expect(attrs[`unit_${CUSTOM_KEY}`]).toBe("V");
  });

  it("connects device sim1 through the gateway's connect request once the meter answers", () => {
    expect(presence[0]).toEqual({ event: "connect", device: "sim1" });
    expect(presence.filter((p) => p.event === "disconnect")).toEqual([]);
  });
});
