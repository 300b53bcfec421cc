// Memory per meter of `dlms-bridge run`: RSS and JS heap at two (or more) meter counts, each with its own simulator,
// broker and bridge process, polled every INTERVAL_MS. The slope between the counts is the cost of one added meter.
// HEAP_SNAPSHOT=1 also writes a heap snapshot of the largest run and prints the biggest constructors.
// Run: make build && node --import tsx bench/memory.ts
//   env: COUNTS=500,2000 (long: 200,2000,10000)  INTERVAL_MS=10000  SETTLE_S=15  HEAP_SNAPSHOT=0  OBSERVE_MINUTES=0  SCRAPE_SECONDS=15  BRIDGE_NODE_ARGS=  AS_IMAGE=0
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  cpuSeconds,
  machineLoad,
  median,
  metricValue,
  rssBreakdownMb,
  rssMb,
  sleep,
  startBridge,
  startBroker,
  startSim,
  stop,
  tempDir,
  waitForMetersUp,
} from "./lib.js";
import { summarizeHeapSnapshot } from "./heap-summary.js";

const COUNTS = (process.env.COUNTS ?? "500,2000").split(",").map(Number);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 10_000);
const SETTLE_S = Number(process.env.SETTLE_S ?? 15);
const HEAP_SNAPSHOT = process.env.HEAP_SNAPSHOT === "1";
// OBSERVE_MINUTES > 0: instead of 3 samples within one interval, scrape every SCRAPE_SECONDS for that many minutes
// and sample RSS once a minute (median and max reported): the steady state Prometheus sees.
const OBSERVE_MINUTES = Number(process.env.OBSERVE_MINUTES ?? 0);
const SCRAPE_SECONDS = Number(process.env.SCRAPE_SECONDS ?? 15);

export interface MemoryPoint {
  meters: number;
  up: number;
  rssMb: number;
  heapUsedMb: number;
  /** V8 heap reserved (used + garbage + free pages) and memory outside it (Buffers, native): where RSS goes. */
  heapTotalMb: number;
  externalMb: number;
  /** Bridge CPU (user+system) over the sampling window, in % of one core: what a V8 flag trades for RSS. */
  cpuPercent: number;
  rssMaxMb: number;
  rssSamplesMb: number[];
  /** RSS by kind of mapping (medians, MB): file-backed, glibc's brk heap, anonymous (V8 heap, other arenas). */
  rssByKindMb: { file: number; brk: number; anon: number };
}

export async function measureMemory(meters: number, snapshot = false, settleS = SETTLE_S): Promise<MemoryPoint> {
  const dir = tempDir();
  const broker = await startBroker(dir);
  const sim = await startSim(meters);
  const nodeArgs = snapshot ? ["--heapsnapshot-signal=SIGUSR2", `--diagnostic-dir=${dir}`] : [];
  // BRIDGE_NODE_ARGS (read by startBridge), e.g. --max-old-space-size=256: how much of the RSS is uncollected garbage.
  const bridge = await startBridge({ dir, mqttPort: broker.port, simPort: sim.port, meters, intervalMs: INTERVAL_MS, nodeArgs });
  const up = await waitForMetersUp(bridge, meters, 120_000 + meters * 10);
  await sleep(settleS * 1000); // a few polls per meter after the last connect
  const rss: number[] = [];
  const heap: number[] = [];
  const heapTotal: number[] = [];
  const external: number[] = [];
  const byKind: { file: number; brk: number; anon: number }[] = [];
  const cpuStart = cpuSeconds(bridge.child.pid!);
  const wallStart = Date.now();
  const sample = async () => {
    rss.push(rssMb(bridge.child.pid!));
    byKind.push(rssBreakdownMb(bridge.child.pid!));
    const metrics = await bridge.metrics();
    heap.push(metricValue(metrics, "dlms_bridge_nodejs_heap_size_used_bytes") / 2 ** 20);
    heapTotal.push(metricValue(metrics, "dlms_bridge_nodejs_heap_size_total_bytes") / 2 ** 20);
    external.push(metricValue(metrics, "dlms_bridge_nodejs_external_memory_bytes") / 2 ** 20);
  };
  if (OBSERVE_MINUTES > 0) {
    // Production-like: scraped every SCRAPE_SECONDS as Prometheus does, RSS sampled once a minute.
    const scrapesPerSample = Math.max(1, Math.round(60 / SCRAPE_SECONDS));
    for (let m = 0; m < OBSERVE_MINUTES; m++) {
      for (let k = 1; k < scrapesPerSample; k++) {
        await bridge.metrics();
        await sleep(SCRAPE_SECONDS * 1000);
      }
      await sample();
      await sleep(SCRAPE_SECONDS * 1000);
    }
  } else {
    for (let i = 0; i < 3; i++) {
      await sample();
      await sleep(INTERVAL_MS / 3);
    }
  }
  const cpuPercent = (100 * (cpuSeconds(bridge.child.pid!) - cpuStart)) / ((Date.now() - wallStart) / 1000);
  if (snapshot) {
    bridge.child.kill("SIGUSR2");
    let file: string | undefined;
    for (let i = 0; i < 120 && !file; i++) {
      await sleep(1000);
      file = readdirSync(dir).find((f) => f.endsWith(".heapsnapshot"));
    }
    // The snapshot is written in place: wait until its size stops changing.
    for (let last = -1, i = 0; file && i < 120; i++) {
      const size = statSync(join(dir, file)).size;
      if (size === last && size > 0) break;
      last = size;
      await sleep(2000);
    }
    if (file) {
      console.error(`heap snapshot of ${meters} meters: ${join(dir, file)}`);
      console.error(summarizeHeapSnapshot(join(dir, file), 30, meters));
    }
  }
  await Promise.all([stop(bridge.child), stop(sim.child), stop(broker.child)]);
  // The run's DB and broker config go; a heap snapshot stays where the line above said (for bench/heap-summary.ts).
  if (!snapshot) rmSync(dir, { recursive: true, force: true });
  return { meters, up, rssMb: +median(rss).toFixed(1), rssMaxMb: +Math.max(...rss).toFixed(1),
    rssSamplesMb: rss.map((r) => +r.toFixed(0)), heapUsedMb: +median(heap).toFixed(1),
    heapTotalMb: +median(heapTotal).toFixed(1),
    externalMb: +median(external).toFixed(1),
    rssByKindMb: {
      file: median(byKind.map((k) => k.file)),
      brk: median(byKind.map((k) => k.brk)),
      anon: median(byKind.map((k) => k.anon)),
    },
    cpuPercent: +cpuPercent.toFixed(1) };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const points: MemoryPoint[] = [];
  for (const [i, n] of COUNTS.entries()) points.push(await measureMemory(n, HEAP_SNAPSHOT && i === COUNTS.length - 1));
  const first = points[0]!;
  const last = points.at(-1)!;
  const perMeterKb = ((last.rssMb - first.rssMb) * 1024) / (last.meters - first.meters);
  const heapPerMeterKb = ((last.heapUsedMb - first.heapUsedMb) * 1024) / (last.meters - first.meters);
  console.log(
    JSON.stringify(
      { intervalMs: INTERVAL_MS, points, rssPerAddedMeterKb: +perMeterKb.toFixed(1), heapPerAddedMeterKb: +heapPerMeterKb.toFixed(1), load: machineLoad() },
      null,
      2,
    ),
  );
  process.exit(0);
}
