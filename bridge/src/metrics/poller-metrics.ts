// Turns the polling engine's callbacks into the per-meter metrics of docs/contracts.md, so the composition root
// only forwards each PollerHooks call here (and to the outbox/publisher).
import type { Reading } from "../model.js";
import type { MeterEventKind, MeterRuntimeState, PollResult } from "../poller/types.js";
import { BREAKER_STATE_VALUE, type BridgeMetrics } from "./registry.js";

export interface PollerMetricsRecorder {
  onReading(reading: Reading): void;
  onPoll(meter: string, result: PollResult, durationMs: number): void;
  onState(meter: string, state: MeterRuntimeState): void;
  onEvent(meter: string, kind: MeterEventKind, detail: Record<string, unknown>): void;
  onFrame(meter: string, direction: "tx" | "rx", bytes: number): void;
  onDiscarded(meter: string, reason: string): void;
}

export function pollerMetrics(metrics: BridgeMetrics): PollerMetricsRecorder {
  const { meters } = metrics;
  return {
    onReading(reading) {
      const { values, units } = reading;
      for (const key in values) meters.reading(reading.meter, key, units?.[key] ?? "", values[key]!);
    },
    onPoll(meter, result, durationMs) {
      meters.poll(meter, result, durationMs / 1000);
      metrics.readDuration.observe(durationMs / 1000);
    },
    onState(meter, state) {
      const r = meters.meter(meter);
      r.up = state.up ? 1 : 0;
      r.breaker = BREAKER_STATE_VALUE[state.breaker];
      r.consecutiveFailures = state.consecutiveFailures;
      if (state.lastSuccessTs !== undefined) r.lastSuccessSeconds = state.lastSuccessTs / 1000;
    },
    onEvent(meter, kind, detail) {
      if (kind === "connect") meters.meter(meter).connectsOk++;
      else if (kind === "connect-failed") meters.meter(meter).connectsError++;
      else if (kind === "watchdog-restart") metrics.watchdogRestartsTotal.inc({ meter });
      else if (kind === "register-error") {
        const key = typeof detail.key === "string" ? detail.key : "unknown";
        const reason = typeof detail.reason === "string" ? detail.reason : "unknown";
        metrics.registerErrorsTotal.inc({ meter, key, reason });
      }
    },
    onFrame(meter, direction, bytes) {
      const r = meters.meter(meter);
      if (direction === "tx") {
        r.txFrames++;
        r.txBytes += bytes;
      } else {
        r.rxFrames++;
        r.rxBytes += bytes;
      }
    },
    onDiscarded(meter, reason) {
      metrics.framesDiscardedTotal.inc({ meter, reason });
    },
  };
}
