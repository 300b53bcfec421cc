// Memory soak of the bridge: does RSS keep growing while the JS heap stays flat (a native leak: SQLite statements,
// sockets, buffers), or does it level off (allocator high-water mark)? The bridge runs IN this process (from
// bridge/dist) so every sample has the full process.memoryUsage() split (rss, heapUsed, external, arrayBuffers)
// taken right after a full GC, plus the kernel's anon/file/shmem split of RSS. The simulator and Mosquitto are
// separate processes. Results and method: RELIABILITY.md ("Memory soak").
// Run: make build && node --expose-gc --import tsx bench/soak-memory.ts
//   env: SOAK_MINUTES (10), METERS (20), INTERVAL_MS (1000), SAMPLE_SECONDS (30), SOAK_CSV (a file for the samples),
//        SOAK_GC (1: a full GC before each sample, so heapUsed is the live set; 0: as in production, no forced GC)
//        SCRAPE_SECONDS (15: GET /metrics this often, as Prometheus does in the compose stack; 0: never)
//   compare allocators: MALLOC_ARENA_MAX=2 node --expose-gc --import tsx bench/soak-memory.ts

import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { sleep, startBridgeInProcess } from "./lib.js";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const METERS = Number(process.env.METERS ?? 20);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 1000);
const SAMPLE_SECONDS = Number(process.env.SAMPLE_SECONDS ?? 30);
const CSV = process.env.SOAK_CSV;
const FORCE_GC = process.env.SOAK_GC !== "0";
const SCRAPE_SECONDS = Number(process.env.SCRAPE_SECONDS ?? 15);
/** Stops the simulator and broker and removes the temp dir (set once they are started). */
let stopAll: () => Promise<void> = async () => {};

function statusKb(field: string): number {
  const m = readFileSync("/proc/self/status", "utf8").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return Number(m?.[1] ?? 0);
}

interface Sample {
  minute: number;
  rss: number;
  rssAnon: number;
  rssFile: number;
  rssShmem: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  handles: number;
}

const MB = 1024 * 1024;
const round = (x: number) => Math.round(x * 10) / 10;

function sample(t0: number): Sample {
  if (FORCE_GC) (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const resources = (process as unknown as { getActiveResourcesInfo?: () => string[] }).getActiveResourcesInfo?.();
  return {
    minute: round((Date.now() - t0) / 60_000),
    rss: round(m.rss / MB),
    rssAnon: round(statusKb("RssAnon") / 1024),
    rssFile: round(statusKb("RssFile") / 1024),
    rssShmem: round(statusKb("RssShmem") / 1024),
    heapUsed: round(m.heapUsed / MB),
    heapTotal: round(m.heapTotal / MB),
    external: round(m.external / MB),
    arrayBuffers: round(m.arrayBuffers / MB),
    handles: resources?.length ?? -1,
  };
}

/** Least-squares slope in MB per hour of `key` over the samples. */
function slopePerHour(samples: Sample[], key: keyof Sample): number {
  const n = samples.length;
  if (n < 2) return Number.NaN;
  const xs = samples.map((s) => s.minute / 60);
  const ys = samples.map((s) => s[key]);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  const num = xs.reduce((acc, x, i) => acc + (x - mx) * (ys[i]! - my), 0);
  const den = xs.reduce((acc, x) => acc + (x - mx) ** 2, 0);
  return round(num / den);
}

async function main() {
  if (!(globalThis as { gc?: unknown }).gc) console.error("warning: run with node --expose-gc for exact heap samples");
  const { app, cleanup } = await startBridgeInProcess({ meters: METERS, intervalMs: INTERVAL_MS, name: "soak" });
  stopAll = cleanup;

  // The scrape is part of production's memory: at 10,000 meters it is the largest single allocation.
  let scrapes = 0;
  const scraper =
    SCRAPE_SECONDS > 0
      ? setInterval(() => {
          // Read and dropped chunk by chunk: Prometheus is another process, its copy is not the bridge's memory.
          fetch(`http://127.0.0.1:${app.httpPort}/metrics`)
            .then(async (r) => {
              for await (const _ of r.body ?? []) void _;
            })
            .then(() => scrapes++)
            .catch((error) => console.error(`scrape failed: ${(error as Error).message}`));
        }, SCRAPE_SECONDS * 1000)
      : undefined;

  const t0 = Date.now();
  const samples: Sample[] = [];
  if (CSV) writeFileSync(CSV, `${Object.keys(sample(t0)).join(",")}\n`);
  const end = t0 + MINUTES * 60_000;
  while (Date.now() < end) {
    const s = sample(t0);
    samples.push(s);
    if (CSV) appendFileSync(CSV, `${Object.values(s).join(",")}\n`);
    console.error(JSON.stringify(s));
    await sleep(Math.min(SAMPLE_SECONDS * 1000, Math.max(0, end - Date.now())));
  }
  samples.push(sample(t0));
  clearInterval(scraper);
  const polls = app.engine.status().reduce((n, s) => n + (s.up ? 1 : 0), 0);
  await app.stop(2000);

  // The first minutes are warm-up (JIT, SQLite page cache, socket buffers): slopes over the second half.
  const late = samples.filter((s) => s.minute >= MINUTES / 2);
  const first = samples.find((s) => s.minute >= 1) ?? samples[0]!;
  const last = samples.at(-1)!;
  const keys = ["rss", "rssAnon", "rssFile", "rssShmem", "heapUsed", "external", "arrayBuffers"] as const;
  console.log(
    JSON.stringify(
      {
        meters: METERS,
        intervalMs: INTERVAL_MS,
        minutes: MINUTES,
        mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? "default",
        forcedGcBeforeSamples: FORCE_GC,
        scrapeSeconds: SCRAPE_SECONDS,
        scrapes,
        metersUpAtEnd: polls,
        at1MinMb: Object.fromEntries(keys.map((k) => [k, first[k]])),
        atEndMb: Object.fromEntries(keys.map((k) => [k, last[k]])),
        secondHalfSlopeMbPerHour: Object.fromEntries(keys.map((k) => [k, slopePerHour(late, k)])),
        handlesAtEnd: last.handles,
      },
      null,
      2,
    ),
  );
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
