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

/** Frames and bytes per direction counted since the last scrape (plain numbers: a frame costs two additions). */
interface FrameCounts {
  txFrames: number;
  rxFrames: number;
  txBytes: number;
  rxBytes: number;
}

export function pollerMetrics(metrics: BridgeMetrics): PollerMetricsRecorder {
  const frames = new Map<string, FrameCounts>();
  metrics.beforeFrameScrape(() => {
    for (const [meter, c] of frames) {
      if (c.txFrames > 0) metrics.framesTotal.inc({ meter, direction: "tx" }, c.txFrames);
      if (c.rxFrames > 0) metrics.framesTotal.inc({ meter, direction: "rx" }, c.rxFrames);
      if (c.txBytes > 0) metrics.frameBytesTotal.inc({ meter, direction: "tx" }, c.txBytes);
      if (c.rxBytes > 0) metrics.frameBytesTotal.inc({ meter, direction: "rx" }, c.rxBytes);
      c.txFrames = c.rxFrames = c.txBytes = c.rxBytes = 0;
    }
  });
  return {
    onReading(reading) {
      for (const [key, value] of Object.entries(reading.values)) {
        metrics.meterValue.set({ meter: reading.meter, key, unit: reading.units?.[key] ?? "" }, value);
      }
    },
    onPoll(meter, result, durationMs) {
      metrics.readsTotal.inc({ meter, result });
      metrics.readDuration.observe({ meter }, durationMs / 1000);
    },
    onState(meter, state) {
      metrics.meterUp.set({ meter }, state.up ? 1 : 0);
      metrics.breakerState.set({ meter }, BREAKER_STATE_VALUE[state.breaker]);
      metrics.consecutiveFailures.set({ meter }, state.consecutiveFailures);
      if (state.lastSuccessTs !== undefined) metrics.lastSuccessTimestamp.set({ meter }, state.lastSuccessTs / 1000);
    },
    onEvent(meter, kind, detail) {
      if (kind === "connect") metrics.connectsTotal.inc({ meter, result: "ok" });
      else if (kind === "connect-failed") metrics.connectsTotal.inc({ meter, result: "error" });
      else if (kind === "watchdog-restart") metrics.watchdogRestartsTotal.inc({ meter });
      else if (kind === "register-error") {
        const key = typeof detail.key === "string" ? detail.key : "unknown";
        const reason = typeof detail.reason === "string" ? detail.reason : "unknown";
        metrics.registerErrorsTotal.inc({ meter, key, reason });
      }
    },
    onFrame(meter, direction, bytes) {
      let c = frames.get(meter);
      if (!c) {
        c = { txFrames: 0, rxFrames: 0, txBytes: 0, rxBytes: 0 };
        frames.set(meter, c);
      }
      if (direction === "tx") {
        c.txFrames++;
        c.txBytes += bytes;
      } else {
        c.rxFrames++;
        c.rxBytes += bytes;
      }
    },
    onDiscarded(meter, reason) {
      metrics.framesDiscardedTotal.inc({ meter, reason });
    },
  };
}
