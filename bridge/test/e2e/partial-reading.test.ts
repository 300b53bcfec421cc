// Issue 8 §3 end to end: `dlms-bridge run` against a meter (scripted, on real TCP) whose GET-with-list fails every
// item after a missing object. The other registers reach MQTT on every poll; the missing one is counted in
// dlms_bridge_register_errors_total and named in /api/meters lastError; the meter is never reported offline.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DlmsData } from "../../src/dlms/axdr/types.js";
import { failsAfterMissingInList, key } from "../client/scripted-meter.js";
import { type ScriptedMeterServer, serveScriptedMeter } from "../client/scripted-meter-server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  apiMeters,
  type BridgeProcess,
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  metricValue,
  type Recorder,
  record,
  scrape,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

const u16 = (value: number): DlmsData => ({ type: "long-unsigned", value });
const scalerUnit = (scaler: number, unit: number): DlmsData => ({
  type: "structure",
  value: [
    { type: "integer", value: scaler },
    { type: "enum", value: unit },
  ],
});
const VALUES: Record<string, DlmsData> = {
  [key(3, "1.0.32.7.0.255", 2)]: u16(23012),
  [key(3, "1.0.32.7.0.255", 3)]: scalerUnit(-2, 35),
  [key(3, "1.0.31.7.0.255", 2)]: u16(1234),
  [key(3, "1.0.31.7.0.255", 3)]: scalerUnit(-3, 33),
  [key(3, "1.0.14.7.0.255", 2)]: u16(4998),
  [key(3, "1.0.14.7.0.255", 3)]: scalerUnit(-2, 44),
};
const REGISTERS = "voltage:1-0:32.7.0,missing:1-0:99.99.0,current:1-0:31.7.0,frequency:1-0:14.7.0";

describe("dlms-bridge run: one missing register behind a with-list quirk", () => {
  let broker: MosquittoHandle;
  let meter: ScriptedMeterServer;
  let recorder: Recorder;
  let bridge: BridgeProcess;
  let httpPort: number;

  beforeAll(async () => {
    broker = await startMosquitto();
    meter = await serveScriptedMeter({
      conformance: ["get", "multiple-references"],
      values: VALUES,
      script: failsAfterMissingInList,
    });
    recorder = await record(broker.url);
    bridge = await startBridge(
      bridgeEnv({
        mqttUrl: broker.url,
        dbPath: join(await tempDir(), "bridge.db"),
        meters: { quirky: `hdlc://127.0.0.1:${meter.port}?interval=500ms&timeout=2s&registers=${REGISTERS}` },
      }),
    );
    httpPort = await bridge.httpPort();
  }, 60_000);

  afterAll(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await meter?.close();
    await broker?.stop();
  });

  it("publishes the other keys, counts the missing one, and keeps the meter online", async () => {
    await waitUntil(() => recorder.telemetry("quirky").length >= 10, "10 readings of the quirky meter", 30_000);
    const samples = await scrape(httpPort);
    const [state] = await apiMeters(httpPort);

    for (const telemetry of recorder.telemetry("quirky")) {
      expect(telemetry.values).toEqual({
        voltage: 230.12,
        current: 1.234,
        frequency: 49.98,
      });
    }
    const errors = metricValue(samples, "dlms_bridge_register_errors_total", {
      meter: "quirky",
      key: "missing",
      reason: "object-undefined",
    });
    const partial = metricValue(samples, "dlms_bridge_meter_reads_total", { meter: "quirky", result: "partial" });
    const ok = metricValue(samples, "dlms_bridge_meter_reads_total", { meter: "quirky", result: "ok" });
    expect(errors).toBeGreaterThanOrEqual(2);
    expect(errors).toBe(partial);
    expect(ok).toBeGreaterThan(partial); // backed off: most polls no longer ask for it
    expect(metricValue(samples, "dlms_bridge_meter_reads_total", { meter: "quirky", result: "error" })).toBe(0);
    expect(metricValue(samples, "dlms_bridge_meter_up", { meter: "quirky" })).toBe(1);

    expect(state).toMatchObject({ id: "quirky", up: true, connected: true, breaker: "closed", consecutiveFailures: 0 });
    expect(state!.lastError).toContain("missing (1.0.99.99.0.255) attr 2: data-access-result object-undefined (4)");
    expect(state!.failingRegisters).toMatchObject({ missing: { reason: "object-undefined" } });
    expect(recorder.messages.filter((m) => m.topic === "dlms/quirky/disconnect")).toEqual([]);
    expect(recorder.last("dlms/quirky/status")?.payload).toContain("online");
  });
});
