// The ThingsBoard gateway's MQTT connector (tb-gateway/config/mqtt.json) checked against what the bridge really
// publishes: the topic functions and payload builders of bridge/src/publish/payloads.ts, and the register sets.
import { describe, expect, it } from "vitest";
import { parseMeterUrl } from "../../src/config/meter-url.js";
import { REGISTER_SETS } from "../../src/config/register-sets.js";
import type { Reading } from "../../src/model.js";
import { gatewayConnectorJson } from "../../src/publish/gateway-connector.js";
import {
  attributesPayload,
  attributesTopic,
  BRIDGE_STATE_TOPIC,
  presencePayload,
  presenceTopic,
  profileTopic,
  statusPayload,
  statusTopic,
  telemetryPayload,
  telemetryTopic,
} from "../../src/publish/payloads.js";
import { profilePayload } from "../../src/publish/profile-payload.js";
import { type ConverterConfig, convertJson, convertMessage } from "../helpers/gateway-converter.js";
import {
  environmentOf,
  expressionsIn,
  loadCompose,
  mountsOf,
  readJson,
  readText,
  resolveExpression,
  topicMatches,
} from "./stack-files.js";

interface DeviceInfo {
  deviceNameExpressionSource: string;
  deviceNameExpression: string;
  deviceProfileExpressionSource?: string;
  deviceProfileExpression?: string;
}
interface Mapping {
  topicFilter: string;
  subscriptionQos?: number;
  converter: ConverterConfig;
}
interface Request {
  topicFilter: string;
  deviceInfo?: DeviceInfo;
}
interface MqttConnector {
  name: string;
  broker: {
    host: string;
    port: number;
    clientId?: string;
    version: number;
    cleanSession?: boolean;
    cleanStart?: boolean;
    sessionExpiryInterval?: number;
    security: { type: string };
  };
  mapping?: unknown;
  dataMapping: Mapping[];
  requestsMapping: Record<string, Request[]>;
}

const connector = readJson<MqttConnector>("tb-gateway", "config", "mqtt.json");
const mappings = connector.dataMapping;
const METER = "sim1";

// Every key of every named register set, as a three-phase meter read with all of them reports it.
const ALL_KEYS = [...new Set(Object.values(REGISTER_SETS).flatMap((set) => set.map((r) => r.key)))];
const reading: Reading = {
  meter: METER,
  ts: Date.UTC(2026, 10, 26, 12, 0, 0),
  values: Object.fromEntries(ALL_KEYS.map((key, i) => [key, 230.1 + i])),
};
const UNITS: Record<string, string> = { voltage: "V", current: "A", frequency: "Hz", active_power: "W" };
const attributes = {
  serial_number: "12345678",
  logical_device_name: "SIM0000012345678",
  firmware: "1.0.0",
  transport: "hdlc",
  ...Object.fromEntries(ALL_KEYS.map((key) => [`unit_${key}`, UNITS[key] ?? "Wh"])),
};

/** Three backfilled load-profile rows, 15 minutes apart. */
const profileRows = [0, 1, 2].map((i) => ({
  ts: Date.UTC(2026, 10, 26, 11, 0) + i * 900_000,
  values: { active_energy: 1_523_400 + i * 250, active_power: 1000 + i },
}));

/** What the bridge publishes for one meter: topic -> payload (parsed JSON). */
const published: Record<string, unknown> = {
  [telemetryTopic(METER)]: JSON.parse(telemetryPayload(reading)),
  [attributesTopic(METER)]: JSON.parse(attributesPayload(METER, attributes)),
  [statusTopic(METER)]: JSON.parse(statusPayload(METER, true)),
  [profileTopic(METER)]: JSON.parse(profilePayload(METER, profileRows)),
};
/** Presence events, consumed by the connector's connect/disconnect requests rather than a data mapping. */
const presence: Record<string, unknown> = {
  [presenceTopic(METER, true)]: JSON.parse(presencePayload(METER)),
  [presenceTopic(METER, false)]: JSON.parse(presencePayload(METER)),
};

function mappingFor(topic: string): Mapping[] {
  return mappings.filter((m) => topicMatches(m.topicFilter, topic));
}

describe("tb-gateway MQTT connector (mqtt.json)", () => {
  it("is exactly what bridge/src/publish/gateway-connector.ts generates (npm run -w bridge gateway-config)", () => {
    expect(readText("tb-gateway", "config", "mqtt.json")).toBe(gatewayConnectorJson());
  });

  it("uses the 3.x format (dataMapping + requestsMapping), not the legacy one the gateway would convert", () => {
    expect(connector.mapping).toBeUndefined();
    expect(Array.isArray(connector.dataMapping)).toBe(true);
    expect(Object.keys(connector.requestsMapping).sort()).toEqual(
      ["attributeRequests", "attributeUpdates", "connectRequests", "disconnectRequests", "serverSideRpc"].sort(),
    );
    for (const m of mappings) {
      expect(m.converter.type).toBe("json");
      expect(m.converter.deviceInfo).toBeDefined();
    }
  });

  it("connects to the compose Mosquitto with a fixed client id and a persistent session", () => {
    const conf = readText("mosquitto", "config", "mosquitto.conf");
    expect(conf).toMatch(new RegExp(`^listener ${connector.broker.port}\\b`, "m"));
    expect(connector.broker.host).toBe("mosquitto");
    expect(loadCompose().services[connector.broker.host]).toBeDefined();
    expect(connector.broker.clientId).toMatch(/^[A-Za-z0-9_-]{1,23}$/); // fixed and MQTT 3.1.1-safe
    // Never the bridge's id: two clients with one id kick each other off the broker.
    expect(connector.broker.clientId).not.toBe(environmentOf(loadCompose().services.bridge!).MQTT_CLIENT_ID);
    expect(connector.broker.security.type).toBe("anonymous");
    if (connector.broker.version === 5) {
      expect(connector.broker.cleanStart).toBe(false);
      expect(connector.broker.sessionExpiryInterval).toBeGreaterThan(3600);
    } else {
      expect(connector.broker.version).toBe(4);
      expect(connector.broker.cleanSession).toBe(false);
    }
  });

  it("subscribes with QoS 1", () => {
    for (const m of mappings) expect(m.subscriptionQos, m.topicFilter).toBe(1);
  });

  it("every topic filter matches a topic the bridge publishes", () => {
    const topics = [...Object.keys(published), ...Object.keys(presence)];
    const all = [...mappings, ...Object.values(connector.requestsMapping).flat()];
    for (const entry of all) {
      expect(
        topics.filter((t) => topicMatches(entry.topicFilter, t)),
        `${entry.topicFilter} matches nothing the bridge publishes`,
      ).not.toEqual([]);
    }
  });

  it("every topic the bridge publishes for a meter is consumed by exactly one mapping", () => {
    for (const topic of Object.keys(published)) expect(mappingFor(topic), topic).toHaveLength(1);
    // The bridge's own availability is for humans and Prometheus, not a device.
    expect(mappingFor(BRIDGE_STATE_TOPIC)).toEqual([]);
  });

  it("names the device from the payload's meter field, the same on every topic", () => {
    for (const [topic, payload] of Object.entries(published)) {
      const info = mappingFor(topic)[0]!.converter.deviceInfo;
      expect(info.deviceNameExpressionSource).toBe("message");
      const [expr] = expressionsIn(info.deviceNameExpression);
      // An array (profile rows) is converted item by item: each item names the device.
      for (const item of Array.isArray(payload) ? payload : [payload]) {
        expect(resolveExpression(item, expr!), topic).toBe(METER);
      }
      expect(info.deviceProfileExpressionSource).toBe("constant");
      expect(info.deviceProfileExpression).toBe(
        readJson<{ name: string }>("thingsboard", "device-profile-dlms-meter.json").name,
      );
    }
  });

  it("every gateway expression resolves in the real payload of its topic", () => {
    for (const [topic, payload] of Object.entries(published)) {
      const { attributes: attrs, timeseries } = mappingFor(topic)[0]!.converter;
      for (const point of [...attrs, ...timeseries]) {
        if (point === "*") continue; // takes the payload whole: see the telemetry and attributes tests
        for (const expr of [...expressionsIn(point.value), ...expressionsIn(point.key)]) {
          expect(resolveExpression(payload, expr), `${topic}: ${point.key} <- ${expr}`).toBeDefined();
        }
      }
    }
  });

  it("forwards a reading's values, any key, with the reading's own ts and no meter/ts keys", () => {
    const telemetry = mappingFor(telemetryTopic(METER))[0]!.converter;
    expect(telemetry.timeseries).toEqual(["*"]);
    expect(telemetry.attributes).toEqual([]);
    expect(telemetry.useReceivedTs).toBeUndefined();
    // A user's own register from .env, next to a named set: the converter must take whatever keys arrive.
    const custom = parseMeterUrl("sim1", "hdlc://127.0.0.1:4059?registers=default,foo:1-0:99.1.0", {});
    const values = Object.fromEntries(custom.registers.map((r, i) => [r.key, i === 0 ? 5680 : 0.5 + i]));
    const own: Reading = { meter: METER, ts: Date.UTC(2026, 0, 2, 3, 4, 5, 678), values };
    const receivedAt = own.ts + 3_600_000; // delivered an hour late (e.g. after an outage)
    for (const r of [reading, own]) {
      const converted = convertJson(telemetry, JSON.parse(telemetryPayload(r)), receivedAt);
      expect(converted.deviceName).toBe(METER);
      expect(converted.telemetry).toEqual([{ ts: r.ts, values: r.values }]);
      expect(converted.attributes).toEqual({});
    }
    expect(Object.keys(own.values)).toContain("foo");
  });

  it("turns one profile message (a JSON array) into one device message with each row at its own ts", () => {
    const [mapping] = mappingFor(profileTopic(METER));
    expect(mapping!.converter.timeseries).toEqual(["*"]);
    const converted = convertMessage(mapping!.converter, JSON.parse(profilePayload(METER, profileRows)), 42);
    expect(converted).toHaveLength(1);
    expect(converted[0]!.deviceName).toBe(METER);
    expect(converted[0]!.telemetry).toEqual(profileRows);
  });

  it("would lose ts and leak meter/ts as telemetry with the old flat payload (the model tells them apart)", () => {
    const telemetry = mappingFor(telemetryTopic(METER))[0]!.converter;
    const flat = { meter: METER, ts: reading.ts, voltage: 230.1 };
    expect(convertJson(telemetry, flat, 42).telemetry).toEqual([{ ts: 42, values: flat }]);
  });

  it("maps every attribute the bridge publishes, and the meter status", () => {
    const attrMapping = mappingFor(attributesTopic(METER))[0]!.converter;
    const payload = published[attributesTopic(METER)] as Record<string, unknown>;
    const converted = convertJson(attrMapping, payload, 1);
    expect(converted.deviceName).toBe(METER);
    expect(converted.attributes).toEqual(payload); // unit_<key> of custom registers too; `meter` = device name
    expect(converted.telemetry).toEqual([]);
    const status = mappingFor(statusTopic(METER))[0]!.converter;
    expect(status.attributes).toEqual([{ type: "string", key: "status", value: `\${status}` }]);
    for (const online of [true, false]) {
      const converted = convertJson(status, JSON.parse(statusPayload(METER, online)), 1);
      expect(converted).toMatchObject({ deviceName: METER, attributes: { status: online ? "online" : "offline" } });
    }
  });

  it("keeps connect/disconnect requests off the data topics (the gateway would never see them there)", () => {
    // mqtt_connector.py handles a message with the data mapping when its topic matches one, and only otherwise
    // tries connect, then disconnect requests; both ignore the payload (docs/operations.md).
    for (const request of Object.values(connector.requestsMapping).flat()) {
      for (const m of mappings)
        expect(topicMatches(m.topicFilter, request.topicFilter), request.topicFilter).toBe(false);
    }
    const connect = connector.requestsMapping.connectRequests ?? [];
    const disconnect = connector.requestsMapping.disconnectRequests ?? [];
    for (const c of connect) for (const d of disconnect) expect(c.topicFilter).not.toBe(d.topicFilter);
  });

  it("turns the bridge's presence events into device connect / disconnect, named from the payload", () => {
    const requests = connector.requestsMapping;
    for (const [online, topic] of [
      [true, presenceTopic(METER, true)],
      [false, presenceTopic(METER, false)],
    ] as const) {
      const handlers = (online ? requests.connectRequests : requests.disconnectRequests) ?? [];
      const other = (online ? requests.disconnectRequests : requests.connectRequests) ?? [];
      const matching = handlers.filter((r) => topicMatches(r.topicFilter, topic));
      expect(matching, topic).toHaveLength(1);
      expect(
        other.filter((r) => topicMatches(r.topicFilter, topic)),
        topic,
      ).toEqual([]);
      const info = matching[0]!.deviceInfo!;
      expect(info.deviceNameExpressionSource).toBe("message");
      const [expr] = expressionsIn(info.deviceNameExpression);
      expect(resolveExpression(presence[topic], expr!)).toBe(METER);
    }
  });
});

describe("tb_gateway.json", () => {
  const gw = readJson<{
    thingsboard: { host: string; port: number; remoteConfiguration: boolean; qos: number };
    storage: { type: string; data_file_path?: string; data_folder_path?: string };
    connectors: Array<{ type: string; name: string; configuration: string }>;
  }>("tb-gateway", "config", "tb_gateway.json");

  it("loads the MQTT connector from mqtt.json, under the connector's own name", () => {
    expect(gw.connectors).toEqual([{ type: "mqtt", name: connector.name, configuration: "mqtt.json" }]);
  });

  it("stores unsent messages on a volume (sqlite or file, never memory)", () => {
    expect(["sqlite", "file"]).toContain(gw.storage.type);
    const path = gw.storage.type === "sqlite" ? gw.storage.data_file_path : gw.storage.data_folder_path;
    expect(path).toMatch(/^\//);
    const volumes = mountsOf(loadCompose().services["tb-gateway"]!).filter((m) => !m.bind);
    expect(
      volumes.some((v) => path!.startsWith(`${v.target}/`)),
      `${path} is not on a named volume`,
    ).toBe(true);
  });

  it("sends to ThingsBoard with QoS 1 and ignores remote configuration (the files here are the truth)", () => {
    expect(gw.thingsboard.qos).toBe(1);
    expect(gw.thingsboard.remoteConfiguration).toBe(false);
  });

  it("ships a logs.json (the mounted folder replaces the image's defaults)", () => {
    const logs = readJson<{ loggers: Record<string, unknown> }>("tb-gateway", "config", "logs.json");
    for (const logger of ["service", "connector", "converter", "tb_connection", "storage"])
      expect(logs.loggers).toHaveProperty(logger);
  });
});
