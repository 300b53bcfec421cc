// Every metric of docs/contracts.md in one prom-client Registry. Names and labels are the contract: change both together.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { DROP_REASONS } from "../outbox/outbox.js";
import { WRITE_ERROR_REASONS } from "../store/write-errors.js";
import { MeterSeries } from "./meter-series.js";

export const METRIC_PREFIX = "dlms_bridge_";

/** Where the outbox gauges read their values at scrape time (the Outbox implements it). */
export interface OutboxGaugeSource {
  pending(): number;
  oldestAgeMs(now: number): number;
  /** Readings waiting in memory because the disk refuses commits. */
  waitingInMemory?(): number;
  /** Rows acknowledged by the broker whose delete the disk refused so far. */
  ackedUndeleted?(): number;
}

export type BreakerStateName = "closed" | "half-open" | "open";
export const BREAKER_STATE_VALUE: Record<BreakerStateName, number> = { closed: 0, "half-open": 1, open: 2 };

export interface BridgeMetrics {
  registry: BridgeRegistry;
  buildInfo: Gauge<"version" | "node_version">;
  /** The families every meter has (up, reads, values, frames...): plain numbers, written at scrape time. */
  meters: MeterSeries;
  /** Poll durations of all meters (no meter label: 16 series per meter would be most of a large fleet's scrape). */
  readDuration: Histogram;
  registerErrorsTotal: Counter<"meter" | "key" | "reason">;
  watchdogRestartsTotal: Counter<"meter">;
  outboxPending: Gauge;
  outboxOldestAgeSeconds: Gauge;
  outboxDroppedTotal: Counter<"reason">;
  outboxWriteErrorsTotal: Counter<"reason">;
  outboxWritable: Gauge;
  outboxMemoryQueue: Gauge;
  outboxAckedUndeleted: Gauge;
  mqttConnected: Gauge;
  mqttPublishesTotal: Counter<"result">;
  framesDiscardedTotal: Counter<"meter" | "reason">;
  securityFailuresTotal: Counter<"meter" | "check">;
  profileRowsTotal: Counter<"meter" | "profile">;
  profileBackfillLagSeconds: Gauge<"meter" | "profile">;
  profileBackfillDuration: Histogram<"meter" | "profile">;
  meterClockDriftSeconds: Gauge<"meter">;
  /** Makes dlms_bridge_outbox_pending / _oldest_age_seconds read the outbox at each scrape. */
  observeOutbox(source: OutboxGaugeSource): void;
}

export interface CreateMetricsOptions {
  version?: string;
  /** Default true; tests creating many registries may turn the process collectors off. */
  defaultMetrics?: boolean;
}

// From a meter on a LAN (a few ms) to a slow meter behind a GPRS modem (tens of seconds).
const READ_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

export function createMetrics(options: CreateMetricsOptions = {}): BridgeMetrics {
  const meters = new MeterSeries(METRIC_PREFIX);
  const registry = new BridgeRegistry(meters);
  const registers = [registry];
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });

  let outboxSource: OutboxGaugeSource | undefined;
  const name = (suffix: string) => `${METRIC_PREFIX}${suffix}`;

  const buildInfo = new Gauge({
    name: name("build_info"),
    help: "Always 1; labels carry the bridge version and the Node.js version.",
    labelNames: ["version", "node_version"] as const,
    registers,
  });
  buildInfo.set({ version: options.version ?? packageVersion(), node_version: process.version }, 1);

  const perMeter = {
    readDuration: new Histogram({
      name: name("read_duration_seconds"),
      help: "Duration of one poll (connect, reads, release), all meters together; per meter: dlms_bridge_meter_read_duration_seconds.",
      buckets: READ_DURATION_BUCKETS,
      registers,
    }),
    registerErrorsTotal: new Counter({
      name: name("register_errors_total"),
      help: "Registers that could not be read, by reason.",
      labelNames: ["meter", "key", "reason"] as const,
      registers,
    }),
    watchdogRestartsTotal: new Counter({
      name: name("watchdog_restarts_total"),
      help: "Polls of the meter aborted by the watchdog because they hung.",
      labelNames: ["meter"] as const,
      registers,
    }),
    framesDiscardedTotal: new Counter({
      name: name("frames_discarded_total"),
      help: "Received frames discarded (bad FCS/HCS, wrong address, ...), by reason.",
      labelNames: ["meter", "reason"] as const,
      registers,
    }),
    securityFailuresTotal: new Counter({
      name: name("security_failures_total"),
      help: "HLS-GMAC / ciphering checks that failed, by check (tag-mismatch, replayed-counter, block-key, ...).",
      labelNames: ["meter", "check"] as const,
      registers,
    }),
    profileRowsTotal: new Counter({
      name: name("profile_rows_total"),
      help: "Load-profile rows read back from the meter and handed to the outbox (backfill), by profile OBIS.",
      labelNames: ["meter", "profile"] as const,
      registers,
    }),
    profileBackfillLagSeconds: new Gauge({
      name: name("profile_backfill_lag_seconds"),
      help: "Meter clock now minus the timestamp of the last load-profile row delivered.",
      labelNames: ["meter", "profile"] as const,
      registers,
    }),
    profileBackfillDuration: new Histogram({
      name: name("profile_backfill_duration_seconds"),
      help: "Duration of a backfill run: from its first read to caught up with the meter's clock.",
      labelNames: ["meter", "profile"] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    }),
    meterClockDriftSeconds: new Gauge({
      name: name("meter_clock_drift_seconds"),
      help: "Meter clock minus bridge clock, measured at each association (meters with load profiles).",
      labelNames: ["meter"] as const,
      registers,
    }),
  };

  const outboxPending = new Gauge({
    name: name("outbox_pending"),
    help: "Readings stored in the outbox and not yet acknowledged by the broker.",
    registers,
    collect() {
      if (outboxSource) this.set(outboxSource.pending());
    },
  });
  const outboxOldestAgeSeconds = new Gauge({
    name: name("outbox_oldest_age_seconds"),
    help: "Age of the oldest unacknowledged reading in the outbox (0 when empty).",
    registers,
    collect() {
      if (outboxSource) this.set(outboxSource.oldestAgeMs(Date.now()) / 1000);
    },
  });

  const outboxDroppedTotal = new Counter({
    name: name("outbox_dropped_total"),
    help:
      "Readings lost, by reason: max_rows (oldest dropped at OUTBOX_MAX_ROWS), memory_full (the in-memory queue " +
      "for an unwritable disk overflowed), write_error (refused by the database), shutdown (unstored at stop).",
    labelNames: ["reason"] as const,
    registers,
  });
  // Every reason exported at 0 from the start, so alerts and panels see the series before the first loss.
  for (const reason of DROP_REASONS) outboxDroppedTotal.inc({ reason }, 0);
  const outboxWriteErrorsTotal = new Counter({
    name: name("outbox_write_errors_total"),
    help: "Failed writes to the outbox database (commits, deletes of acknowledged rows, state), by reason.",
    labelNames: ["reason"] as const,
    registers,
  });
  for (const reason of WRITE_ERROR_REASONS) outboxWriteErrorsTotal.inc({ reason }, 0);

  return {
    registry,
    buildInfo,
    meters,
    ...perMeter,
    outboxPending,
    outboxOldestAgeSeconds,
    outboxDroppedTotal,
    outboxWriteErrorsTotal,
    outboxWritable: new Gauge({
      name: name("outbox_writable"),
      help: "1 while the outbox database accepts writes, 0 after a failed write until the next one succeeds.",
      registers,
    }),
    outboxMemoryQueue: new Gauge({
      name: name("outbox_memory_queue"),
      help: "Readings waiting in memory because the outbox database refuses writes (bounded; retried).",
      registers,
      collect() {
        if (outboxSource?.waitingInMemory) this.set(outboxSource.waitingInMemory());
      },
    }),
    outboxAckedUndeleted: new Gauge({
      name: name("outbox_acked_undeleted"),
      help: "Rows the broker acknowledged whose delete the disk refused so far (re-sent if the bridge restarts).",
      registers,
      collect() {
        if (outboxSource?.ackedUndeleted) this.set(outboxSource.ackedUndeleted());
      },
    }),
    mqttConnected: new Gauge({ name: name("mqtt_connected"), help: "1 while connected to the broker.", registers }),
    mqttPublishesTotal: new Counter({
      name: name("mqtt_publishes_total"),
      help: "QoS 1 publishes by result (ok = acknowledged by the broker, error).",
      labelNames: ["result"] as const,
      registers,
    }),
    observeOutbox(source) {
      outboxSource = source;
    },
  };
}

/** prom-client's exposition of the fleet-wide metrics followed by the per-meter families (meter-series.ts). */
export class BridgeRegistry extends Registry {
  constructor(private readonly perMeter: MeterSeries) {
    super();
  }

  /** The whole exposition as text (tests, small fleets); /metrics serves exposition() instead. */
  override async metrics(): Promise<string> {
    return Buffer.concat(await this.exposition()).toString("utf8");
  }

  /** The whole exposition as UTF-8 chunks: the per-meter part never becomes one large string or buffer. */
  async exposition(): Promise<Buffer[]> {
    return [Buffer.from(`${await super.metrics()}\n`), ...this.perMeter.render()];
  }
}

/** The version of the bridge package (bridge/package.json), found by walking up from this module. */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth++) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "dlms-bridge" && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return "unknown";
}
