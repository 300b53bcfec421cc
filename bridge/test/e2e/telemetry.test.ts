// E2E 1: three simulated meters -> `dlms-bridge run` -> Mosquitto. The right values, units and timestamps arrive
// on the right topics, with the retained attributes/status and the bridge state.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REGISTER_SETS } from "../../src/config/register-sets.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { decodeScalerUnit } from "../../src/dlms/cosem/scaler.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  apiMeters,
  type BridgeProcess,
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  httpGet,
  inOrder,
  metricValue,
  missingSlots,
  type Recorder,
  readingsCounted,
  record,
  type Sample,
  scrape,
  startBridge,
  type Telemetry,
  tempDir,
  waitUntil,
} from "./harness.js";

const METERS = ["alpha", "beta", "gamma"] as const;
/** alpha and beta over HDLC, gamma over the IEC 62056-47 wrapper (the simulator serves both). */
const TRANSPORT = { alpha: "hdlc", beta: "hdlc", gamma: "wrapper" } as const;
const INTERVAL_MS = 1000;
const SERIAL_BASE = 40_000_001;
const KEYS = REGISTER_SETS.default!.map((r) => r.key);
/** What the simulator's scaler_unit attributes say (checked against them below). */
const UNITS: Record<string, string> = {
  voltage: "V",
  current: "A",
  frequency: "Hz",
  active_power: "W",
  active_energy: "Wh",
};

describe("dlms-bridge run: three meters to MQTT", () => {
  let broker: MosquittoHandle;
  let sim: RunningSimulator;
  let recorder: Recorder;
  let bridge: BridgeProcess;
  let httpPort: number;
  let startedAt: number;

  beforeAll(async () => {
    broker = await startMosquitto();
    // Voltage scaler -2 (0.01 V) instead of the usual -1: a bridge ignoring scaler_unit would publish 23012 "V".
    sim = await startSimulator({
      count: 3,
      port: 0,
      wrapperPort: 0,
      seed: 7,
      serialBase: SERIAL_BASE,
      voltageScaler: -2,
    });
    recorder = await record(broker.url);
    const dir = await tempDir();
    startedAt = Date.now();
    bridge = await startBridge(
      bridgeEnv({
        mqttUrl: broker.url,
        dbPath: join(dir, "bridge.db"),
        meters: Object.fromEntries(
          METERS.map((id, i) => {
            const port = TRANSPORT[id] === "wrapper" ? sim.wrapperPorts[i] : sim.ports[i];
            return [id, `${TRANSPORT[id]}://127.0.0.1:${port}?interval=1s&timeout=2s`];
          }),
        ),
      }),
    );
    httpPort = await bridge.httpPort();
    await waitUntil(
      () => METERS.every((id) => recorder.telemetry(id).length >= 4),
      "4 readings of every meter",
      20_000,
    );
  }, 45_000);

  afterAll(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await sim?.close();
    await broker?.stop();
  });

  it("publishes each meter's readings on its own telemetry topic: contract keys, plausible values, grid timestamps", () => {
    const endedAt = Date.now();
    for (const [i, id] of METERS.entries()) {
      const readings = recorder.telemetry(id);
      const model = sim.meters[i]!.model;
      const arrivals = recorder.messages.filter((m) => m.topic === `dlms/${id}/telemetry`);
      for (const r of readings) {
        const arrivedAt = arrivals.find((m) => (JSON.parse(m.payload) as { ts: number }).ts === r.ts)!.at;
        expect(Object.keys(r).sort()).toEqual(["meter", "ts", "values"]);
        expect(Object.keys(r.values).sort()).toEqual([...KEYS].sort());
        expect(r.meter).toBe(id);
        expect(r.ts).toBeGreaterThanOrEqual(startedAt);
        expect(r.ts).toBeLessThanOrEqual(endedAt);
        expect(r.values.voltage).toBeGreaterThanOrEqual(200);
        expect(r.values.voltage).toBeLessThanOrEqual(260);
        expect(r.values.frequency).toBeGreaterThanOrEqual(49);
        expect(r.values.frequency).toBeLessThanOrEqual(51);
        expect(r.values.current).toBeGreaterThan(0);
        expect(r.values.active_power).toBeGreaterThan(0);
        // The energy register is floor(energy at the instant the meter answered), which is after ts (the poll's
        // start) and before the message arrived: this pins each reading to its own meter and its own time.
        expect(r.values.active_energy).toBeGreaterThanOrEqual(Math.floor(model.physics.activeEnergy(r.ts)));
        expect(r.values.active_energy).toBeLessThanOrEqual(Math.floor(model.physics.activeEnergy(arrivedAt)));
      }
      // Energy never decreases, ts strictly increases, one reading per slot of the 1 s grid.
      const energy = readings.map((r) => r.values.active_energy!);
      expect(energy).toEqual([...energy].sort((a, b) => a - b));
      expect(inOrder(readings)).toBe(true);
      expect(missingSlots(readings, INTERVAL_MS)).toBe(0);
    }
    // The voltage scaler is -2: values carry hundredths (all ten-plus readings on multiples of 0.1 V would mean the
    // scaler was taken as -1), and never finer than the scaler allows.
    const voltages = METERS.flatMap((id) => recorder.telemetry(id).map((r) => r.values.voltage!));
    for (const v of voltages) expect(Math.abs(v * 100 - Math.round(v * 100))).toBeLessThan(1e-6);
    expect(voltages.some((v) => Math.abs(v * 10 - Math.round(v * 10)) > 1e-6)).toBe(true);
  });

  it("publishes attributes whose units are the simulator's scaler_unit and online status, not retained", async () => {
    // A late subscriber sees only what is retained: the bridge state, nothing of a meter.
    const late = await record(broker.url);
    await waitUntil(() => late.last("dlms/bridge/state") !== undefined, "retained bridge state");
    expect(late.last("dlms/bridge/state")).toMatchObject({ payload: "online", retain: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(late.messages.filter((m) => m.retain).map((m) => m.topic)).toEqual(["dlms/bridge/state"]);

    for (const [i, id] of METERS.entries()) {
      const slot = sim.meters[i]!;
      const attributes = recorder.last(`dlms/${id}/attributes`)!;
      expect(attributes.retain).toBe(false);
      const expectedUnits = Object.fromEntries(
        REGISTER_SETS.default!.map((spec) => {
          const result = slot.model.get(spec.classId, parseObis(spec.obis), 3);
          if (!result.ok) throw new Error(`simulator has no scaler_unit for ${spec.obis}`);
          return [`unit_${spec.key}`, decodeScalerUnit(result.data).unitSymbol];
        }),
      );
      expect(expectedUnits).toEqual(Object.fromEntries(KEYS.map((key) => [`unit_${key}`, UNITS[key]])));
      expect(JSON.parse(attributes.payload)).toEqual({
        meter: id,
        serial_number: String(SERIAL_BASE + i),
        logical_device_name: slot.model.logicalDeviceName,
        firmware: slot.model.firmwareVersion,
        transport: TRANSPORT[id],
        ...expectedUnits,
      });
      const status = recorder.last(`dlms/${id}/status`)!;
      expect(status.retain).toBe(false);
      expect(JSON.parse(status.payload)).toEqual({ meter: id, status: "online" });
      // The gateway's order: connect request, status online, attributes, then readings.
      const first = (topic: string) => recorder.messages.findIndex((m) => m.topic === `dlms/${id}/${topic}`);
      expect(first("connect")).toBeLessThan(first("status"));
      expect(first("status")).toBeLessThan(first("attributes"));
      expect(first("attributes")).toBeLessThan(first("telemetry"));
    }
    await late.close();
  });

  it("delivers exactly the readings the bridge counted, and reports every meter up", async () => {
    // Read what arrived, then what was counted: every counted reading was published, so equality means none is
    // missing (the next poll leaves a window of most of a second for both reads to agree).
    let samples: Sample[] = [];
    let lastReceived: Telemetry[] = [];
    await waitUntil(
      async () => {
        const received = METERS.map((id) => recorder.telemetry(id));
        samples = await scrape(httpPort);
        lastReceived = received.map((r) => r.at(-1)!);
        return METERS.every((id, i) => readingsCounted(samples, id) === received[i]!.length);
      },
      "received readings to equal dlms_bridge_meter_reads_total",
      10_000,
    );
    // At that moment the newest counted reading is the newest received one: the value gauges (labelled with the
    // unit) hold exactly what was published.
    for (const [i, id] of METERS.entries()) {
      for (const key of KEYS) {
        const gauge = samples.find(
          (s) => s.name === "dlms_bridge_meter_value" && s.labels.meter === id && s.labels.key === key,
        );
        expect(gauge?.labels.unit, `unit label of ${id}/${key}`).toBe(UNITS[key]);
        expect(gauge?.value, `gauge of ${id}/${key}`).toBeCloseTo(lastReceived[i]!.values[key]!, 6);
      }
      expect(metricValue(samples, "dlms_bridge_meter_up", { meter: id })).toBe(1);
      expect(metricValue(samples, "dlms_bridge_meter_connects_total", { meter: id, result: "ok" })).toBe(1);
    }
    expect(metricValue(samples, "dlms_bridge_mqtt_connected")).toBe(1);
    expect(await httpGet(httpPort, "/readyz")).toBe("ready\n");
    expect(await httpGet(httpPort, "/healthz")).toBe("ok\n");
    const meters = await apiMeters(httpPort);
    expect(meters.map((m) => m.id).sort()).toEqual([...METERS].sort());
    for (const m of meters) {
      expect(m).toMatchObject({ up: true, connected: true, breaker: "closed", consecutiveFailures: 0 });
      expect(m.lastError).toBeNull();
    }
  }, 30_000);
});
