// One ProfileBackfill per meter with profile=, its hooks wired to the metrics and the log (the composition root
// only passes what it owns).
import type { Logger } from "../../log.js";
import type { BridgeMetrics } from "../../metrics/registry.js";
import type { MeterConfig } from "../../model.js";
import { ProfileBackfill, type ProfileCursorStore } from "./backfill.js";

export function createProfileBackfills(
  meters: readonly MeterConfig[],
  deps: {
    cursors: ProfileCursorStore;
    metrics: Pick<BridgeMetrics, "profileRowsTotal" | "profileBackfillLagSeconds" | "profileBackfillDuration">;
    log: Pick<Logger, "info" | "warn">;
    onProblem?: (meter: string, profile: string, message: string) => void;
  },
): Map<string, ProfileBackfill> {
  const { metrics, log } = deps;
  const out = new Map<string, ProfileBackfill>();
  for (const meter of meters) {
    if (!meter.profiles?.length) continue;
    const backfill = new ProfileBackfill(meter, {
      cursors: deps.cursors,
      hooks: {
        onRows: (id, profile, rows) => metrics.profileRowsTotal.inc({ meter: id, profile }, rows),
        onLag: (id, profile, lag) => metrics.profileBackfillLagSeconds.set({ meter: id, profile }, lag),
        onCaughtUp(id, profile, durationMs, rows) {
          metrics.profileBackfillDuration.observe({ meter: id, profile }, durationMs / 1000);
          if (rows > 1) log.info({ meter: id, profile, rows, durationMs }, "load profile backfilled");
        },
        onProblem(id, profile, message) {
          log.warn({ meter: id, profile, error: message }, "load profile skipped on this association");
          deps.onProblem?.(id, profile, message);
        },
      },
    });
    out.set(meter.id, backfill);
  }
  return out;
}
