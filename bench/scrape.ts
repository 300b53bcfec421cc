// CPU and output of one /metrics scrape at N meters, side by side in one process: the per-meter families as
// prom-client series (how the bridge exported them before: 31 series per meter, 16 of them a per-meter histogram)
// against the bridge's registry now (createMetrics: per-meter families as plain numbers written at scrape time,
// the read-duration histogram over all meters). Both get the same updates (5 values, a poll, frames) per meter.
// Run: node --import tsx bench/scrape.ts   (env: METERS=10000 RUNS=5)
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { pollerMetrics } from "../bridge/src/metrics/poller-metrics.js";
import { createMetrics } from "../bridge/src/metrics/registry.js";
import { initialRuntimeState } from "../bridge/src/poller/types.js";
import { median } from "./lib.js";

const METERS = Number(process.env.METERS ?? 10_000);
const RUNS = Number(process.env.RUNS ?? 5);
const KEYS = ["voltage", "current", "frequency", "active_power", "active_energy"];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];

/** The former layout: every per-meter family a prom-client metric with a meter label. */
function promClientOnly(meters: number): Registry {
  const registers = [new Registry()];
  const g = (name: string, labelNames: string[]) => new Gauge({ name, help: name, labelNames, registers });
  const c = (name: string, labelNames: string[]) => new Counter({ name, help: name, labelNames, registers });
  const up = g("meter_up", ["meter"]);
  const reads = c("meter_reads_total", ["meter", "result"]);
  const duration = new Histogram({ name: "read_duration_seconds", help: "h", labelNames: ["meter"], buckets: BUCKETS, registers });
  const last = g("meter_last_success_timestamp_seconds", ["meter"]);
  const breaker = g("meter_breaker_state", ["meter"]);
  const failures = g("meter_consecutive_failures", ["meter"]);
  const value = g("meter_value", ["meter", "key", "unit"]);
  const connects = c("meter_connects_total", ["meter", "result"]);
  const frames = c("frames_total", ["meter", "direction"]);
  const bytes = c("frame_bytes_total", ["meter", "direction"]);
  for (let i = 0; i < meters; i++) {
    const meter = `m${i}`;
    up.set({ meter }, 1);
    reads.inc({ meter, result: "ok" });
    duration.observe({ meter }, 0.012);
    last.set({ meter }, 1_790_000_000.5);
    breaker.set({ meter }, 0);
    failures.set({ meter }, 0);
    for (const key of KEYS) value.set({ meter, key, unit: "V" }, 230.1);
    connects.inc({ meter, result: "ok" });
    for (const direction of ["rx", "tx"]) {
      frames.inc({ meter, direction }, 5);
      bytes.inc({ meter, direction }, 500);
    }
  }
  return registers[0]!;
}

function bridgeRegistry(meters: number) {
  const metrics = createMetrics({ defaultMetrics: false });
  const record = pollerMetrics(metrics);
  for (let i = 0; i < meters; i++) {
    const meter = `m${i}`;
    record.onPoll(meter, "ok", 12);
    record.onState(meter, initialRuntimeState(meter, { up: true, connected: true, lastSuccessTs: 1_790_000_000_500 }));
    record.onReading({ meter, ts: 1, values: Object.fromEntries(KEYS.map((k) => [k, 230.1])), units: { voltage: "V" } });
    record.onEvent(meter, "connect", {});
    for (let f = 0; f < 5; f++) {
      record.onFrame(meter, "tx", 100);
      record.onFrame(meter, "rx", 100);
    }
  }
  return metrics.registry;
}

/** Median CPU ms of one scrape (the body as the HTTP server sends it), then its size and series count. */
async function measure(scrape: () => Promise<string | Buffer[]>, runs: number) {
  await scrape(); // warm-up
  const cpu: number[] = [];
  let body: string | Buffer[] = "";
  for (let r = 0; r < runs; r++) {
    const t0 = process.cpuUsage();
    body = await scrape();
    const d = process.cpuUsage(t0);
    cpu.push((d.user + d.system) / 1000);
  }
  const text = typeof body === "string" ? body : Buffer.concat(body).toString();
  const series = text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).length;
  return { cpuMs: +median(cpu).toFixed(1), series, megabytes: +(Buffer.byteLength(text) / 2 ** 20).toFixed(1) };
}

export interface ScrapeResult {
  meters: number;
  promClientPerMeterSeries: { cpuMs: number; series: number; megabytes: number };
  bridgeNow: { cpuMs: number; series: number; megabytes: number };
  ratio: number;
}

export async function runScrape(meters = METERS, runs = RUNS): Promise<ScrapeResult> {
  const before = promClientOnly(meters);
  const now = bridgeRegistry(meters);
  const promClientPerMeterSeries = await measure(() => before.metrics(), runs);
  const bridgeNow = await measure(() => now.exposition(), runs);
  return { meters, promClientPerMeterSeries, bridgeNow, ratio: +(promClientPerMeterSeries.cpuMs / bridgeNow.cpuMs).toFixed(1) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify({ runs: RUNS, ...(await runScrape()) }, null, 2));
}
