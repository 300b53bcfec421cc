import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { defaultHttpHost } from "../../src/config/schema.js";

describe("loadConfig", () => {
  it("reads meters and applies the contract defaults", () => {
    const result = loadConfig({ METER_B: "hdlc://10.0.0.2:4059", METER_A: "wrapper://10.0.0.1:4060", PATH: "/bin" });
    if (!result.ok) throw new Error(result.errors.join("\n"));
    const { config } = result;
    expect(config.meters.map((m) => m.id)).toEqual(["a", "b"]);
    expect(config.mqtt.url).toBe("mqtt://localhost:1884");
    expect(config.mqtt.clientId).toMatch(/^dlms-bridge-/);
    expect(config).toMatchObject({
      httpPort: 9464,
      dbPath: "./data/bridge.db",
      outboxMaxRows: 1_000_000,
      logLevel: "info",
      maxConcurrentConnects: 32,
      breaker: { failureThreshold: 5, openMs: 60_000 },
      eventRetentionDays: 7,
      presence: { settleMs: 2000, repeatMs: 60_000 },
    });
  });

  it("reads every global variable", () => {
    const result = loadConfig({
      METER_M: "hdlc://h:1",
      MQTT_URL: "mqtts://broker:8883",
      MQTT_USERNAME: "bridge",
      MQTT_PASSWORD: "pw",
      MQTT_CLIENT_ID: "b1",
      HTTP_PORT: "0",
      DB_PATH: "/data/bridge.db",
      OUTBOX_MAX_ROWS: "10",
      LOG_LEVEL: "debug",
      MAX_CONCURRENT_CONNECTS: "4",
      BREAKER_FAILURE_THRESHOLD: "3",
      BREAKER_OPEN_SECONDS: "30",
      EVENT_RETENTION_DAYS: "2",
      GATEWAY_DISCONNECT_DELAY: "1500ms",
      GATEWAY_DISCONNECT_REPEAT: "off",
    });
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.config).toMatchObject({
      mqtt: { url: "mqtts://broker:8883", username: "bridge", password: "pw", clientId: "b1" },
      httpPort: 0,
      dbPath: "/data/bridge.db",
      outboxMaxRows: 10,
      logLevel: "debug",
      maxConcurrentConnects: 4,
      breaker: { failureThreshold: 3, openMs: 30_000 },
      eventRetentionDays: 2,
      presence: { settleMs: 1500, repeatMs: 0 },
    });
  });

  it("reports the errors of every variable at once and never a password", () => {
    const result = loadConfig({
      METER_PLANT1: "hdlc://10.0.0.5:abc",
      METER_PLANT2: "hdlc://10.0.0.6:4059?auth=low",
      METER_plant3: "hdlc://10.0.0.7:4059",
      METER_PLANT3: "hdlc://10.0.0.8:4059",
      METER_GHOST_PASSWORD: "meterpw",
      MQTT_URL: "mqtt://user:brokerpw@broker:1884",
      MQTT_PASSWORD: "brokerpw",
      HTTP_PORT: "http",
      OUTBOX_MAX_ROWS: "0",
      LOG_LEVEL: "loud",
      GATEWAY_DISCONNECT_DELAY: "200ms",
      GATEWAY_DISCONNECT_REPEAT: "60",
    });
    if (result.ok) throw new Error("expected errors");
    expect(result.errors).toEqual(
      expect.arrayContaining([
        "METER_PLANT1: port 'abc' is not a number",
        expect.stringMatching(/^METER_PLANT2: auth=low needs a password/),
        expect.stringMatching(/^METER_plant3: meter id 'plant3' is already defined by METER_PLANT3/),
        "METER_GHOST_PASSWORD: there is no METER_GHOST for this password",
        expect.stringMatching(/^MQTT_URL: must not hold credentials/),
        "MQTT_PASSWORD: is set but MQTT_USERNAME is not",
        expect.stringMatching(/^HTTP_PORT: 'http' is not an integer/),
        expect.stringMatching(/^OUTBOX_MAX_ROWS: '0' is not an integer in 1\.\./),
        expect.stringMatching(/^LOG_LEVEL: 'loud' is not one of/),
        // 200 ms measured too short for the gateway's data path; a bare number has no unit.
        "GATEWAY_DISCONNECT_DELAY: '200ms' is not between 1s and 600s",
        expect.stringMatching(/^GATEWAY_DISCONNECT_REPEAT: '60' is not a duration/),
      ]),
    );
    const text = result.errors.join("\n");
    expect(text).not.toContain("brokerpw");
    expect(text).not.toContain("meterpw");
  });

  it("requires at least one meter", () => {
    const result = loadConfig({});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatch(/no meter configured/);
  });

  it("refuses a CA file that does not exist", () => {
    const result = loadConfig({ METER_M: "hdlc://h:1", MQTT_CA_FILE: "/nonexistent/ca.pem" });
    expect(result).toEqual({ ok: false, errors: ["MQTT_CA_FILE: file '/nonexistent/ca.pem' does not exist"] });
  });
});

describe("HTTP_HOST default", () => {
  it("is loopback outside a container and 0.0.0.0 inside one (/.dockerenv or /run/.containerenv)", () => {
    expect(defaultHttpHost(() => false)).toBe("127.0.0.1");
    expect(defaultHttpHost((path) => path === "/.dockerenv")).toBe("0.0.0.0");
    expect(defaultHttpHost((path) => path === "/run/.containerenv")).toBe("0.0.0.0");
  });

  it("is what the loader uses when HTTP_HOST is unset; an explicit value wins", () => {
    const base = { METER_A: "hdlc://h:1" };
    const unset = loadConfig(base);
    expect(unset.ok && unset.config.httpHost).toBe(defaultHttpHost());
    const explicit = loadConfig({ ...base, HTTP_HOST: "0.0.0.0" });
    expect(explicit.ok && explicit.config.httpHost).toBe("0.0.0.0");
  });
});
