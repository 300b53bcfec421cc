import { describe, expect, it } from "vitest";
import { pollerMetrics } from "../../src/metrics/poller-metrics.js";
import { createMetrics } from "../../src/metrics/registry.js";
import { initialRuntimeState, type MeterRuntimeState } from "../../src/poller/types.js";

function state(overrides: Partial<MeterRuntimeState>): MeterRuntimeState {
  return initialRuntimeState("m1", { up: true, connected: true, ...overrides });
}

describe("pollerMetrics", () => {
  it("turns engine callbacks into the contract's per-meter series", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const record = pollerMetrics(metrics);
    record.onReading({ meter: "m1", ts: 1, values: { voltage: 230.5, current: 1.25 }, units: { voltage: "V" } });
    record.onPoll("m1", "ok", 250);
    record.onPoll("m1", "timeout", 5000);
    record.onState(
      "m1",
      state({ up: false, breaker: "open", consecutiveFailures: 5, lastSuccessTs: 1_700_000_000_500 }),
    );
    record.onEvent("m1", "connect", { durationMs: 10 });
    record.onEvent("m1", "connect-failed", { operation: "connect", error: "no answer to SNRM" });
    record.onEvent("m1", "watchdog-restart", { operation: "read", afterMs: 30_000 });
    record.onEvent("m1", "register-error", { key: "current", obis: "1.0.31.7.0.255", reason: "object-undefined" });
    record.onFrame("m1", "tx", 20);
    record.onFrame("m1", "tx", 30);
    record.onDiscarded("m1", "bad-fcs");

    const text = await metrics.registry.metrics();
    for (const line of [
      'dlms_bridge_meter_value{meter="m1",key="voltage",unit="V"} 230.5',
      'dlms_bridge_meter_value{meter="m1",key="current",unit=""} 1.25',
      'dlms_bridge_meter_reads_total{meter="m1",result="ok"} 1',
      'dlms_bridge_meter_reads_total{meter="m1",result="timeout"} 1',
      "dlms_bridge_read_duration_seconds_sum 5.25",
      "dlms_bridge_read_duration_seconds_count 2",
      'dlms_bridge_read_duration_seconds_bucket{le="0.25"} 1',
      'dlms_bridge_meter_read_duration_seconds{meter="m1"} 5',
      'dlms_bridge_meter_up{meter="m1"} 0',
      'dlms_bridge_meter_breaker_state{meter="m1"} 2',
      'dlms_bridge_meter_consecutive_failures{meter="m1"} 5',
      'dlms_bridge_meter_last_success_timestamp_seconds{meter="m1"} 1700000000.5',
      'dlms_bridge_meter_connects_total{meter="m1",result="ok"} 1',
      'dlms_bridge_meter_connects_total{meter="m1",result="error"} 1',
      'dlms_bridge_watchdog_restarts_total{meter="m1"} 1',
      'dlms_bridge_register_errors_total{meter="m1",key="current",reason="object-undefined"} 1',
      'dlms_bridge_frames_total{meter="m1",direction="tx"} 2',
      'dlms_bridge_frame_bytes_total{meter="m1",direction="tx"} 50',
      'dlms_bridge_frames_discarded_total{meter="m1",reason="bad-fcs"} 1',
    ]) {
      expect(text).toContain(`${line}\n`);
    }
  });

  it("maps each breaker state to its contract value", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const record = pollerMetrics(metrics);
    const values: string[] = [];
    for (const breaker of ["closed", "half-open", "open"] as const) {
      record.onState("m1", state({ breaker }));
      const text = await metrics.registry.metrics();
      values.push(text.match(/^dlms_bridge_meter_breaker_state\{meter="m1"\} (\S+)$/m)![1]!);
    }
    expect(values).toEqual(["0", "1", "2"]);
  });
});
