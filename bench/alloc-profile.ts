// Where the bridge's allocation comes from, per poll and by allocation site. The allocation rate sets how often V8
// scavenges, and every scavenge promotes what is still in flight (requests waiting for a meter's answer, readings
// waiting for their commit or PUBACK) to the old generation, where only a full GC frees it: less allocation per
// poll means fewer scavenges, less promoted garbage and a lower heap peak. The bridge runs IN this process (from
// bridge/dist), polled by a real simulator process, publishing to a real Mosquitto; V8's sampling heap profiler
// counts every sampled allocation (also those freed at once). Run with `node --no-turbo-inlining` to see inlined
// callees as their own sites (otherwise their allocations are counted in the optimized caller).
// Promotion itself is measured with `node --trace-gc-nvp` (promoted= per scavenge), not here: samples of objects
// that die young are not reliably told apart from promoted ones by the profiler.
// Run: make build && node --no-turbo-inlining --import tsx bench/alloc-profile.ts
//   env: METERS (2000), INTERVAL_MS (2000), WARMUP_S (20), PROFILE_S (30), TOP (30), SAMPLING_BYTES (4096),
//        CALLERS=<function name> (also list the three frames above each allocation site of that name)
import { constants, PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics } from "node:v8";
import { metricValue, type ProfileNode, sampleAllocations, sleep, startBridgeInProcess } from "./lib.js";

const METERS = Number(process.env.METERS ?? 2000);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 2000);
const WARMUP_S = Number(process.env.WARMUP_S ?? 20);
const PROFILE_S = Number(process.env.PROFILE_S ?? 30);
const TOP = Number(process.env.TOP ?? 30);
const SAMPLING_BYTES = Number(process.env.SAMPLING_BYTES ?? 4096);
const CALLERS = process.env.CALLERS;
const callers = new Map<string, number>();


/** Bytes by allocation site (function at file:line), and by the first frame of the bridge's own code above it. */
function bySite(root: ProfileNode): { site: Map<string, number>; ours: Map<string, number>; total: number } {
  const site = new Map<string, number>();
  const ours = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, stack: string[]) => {
    const f = node.callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(bridge\/dist|node_modules)\//, "$1/")}:${f.lineNumber + 1}`;
    const here = [...stack, name];
    if (node.selfSize > 0) {
      if (CALLERS && name.startsWith(CALLERS)) {
        const key = `${name} <- ${stack.slice(-3).reverse().join(" <- ")}`;
        callers.set(key, (callers.get(key) ?? 0) + node.selfSize);
      }
      total += node.selfSize;
      site.set(name, (site.get(name) ?? 0) + node.selfSize);
      const own = [...here].reverse().find((s) => s.includes("bridge/dist/")) ?? "(no bridge frame)";
      ours.set(own, (ours.get(own) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, here);
  };
  walk(root, []);
  return { site, ours, total };
}

function table(title: string, map: Map<string, number>, total: number, seconds: number): string {
  const rows = [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP);
  const lines = rows.map(([k, v]) => `${(v / 2 ** 20).toFixed(2).padStart(8)} MB ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  return `${title} (${(total / 2 ** 20).toFixed(1)} MB sampled over ${seconds} s)\n${lines.join("\n")}`;
}

const { app, cleanup } = await startBridgeInProcess({ meters: METERS, intervalMs: INTERVAL_MS, name: "alloc-profile" });
try {
  await sleep(WARMUP_S * 1000);

  const before = process.memoryUsage();
  const gcs = { minor: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gcs.minor++;
      else gcs.major++;
    }
  });
  observer.observe({ entryTypes: ["gc"] });
  const head = await sampleAllocations(async () => {
    await sleep(PROFILE_S * 1000);
  }, SAMPLING_BYTES);
  observer.disconnect();
  const newSpace = getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  const after = process.memoryUsage();
  const up = app.engine.status().filter((s) => s.up).length;
  // How long a poll takes (its objects live at least that long): the read-duration histogram's mean.
  const metrics = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
  const readSum = metricValue(metrics, "dlms_bridge_read_duration_seconds_sum");
  const readCount = metricValue(metrics, "dlms_bridge_read_duration_seconds_count");
  await app.stop(2000);

  const { site, ours, total } = bySite(head);
  console.log(
    `${METERS} meters (${up} up) every ${INTERVAL_MS} ms = ${((1000 * METERS) / INTERVAL_MS).toFixed(0)} polls/s; ` +
      `heapUsed ${(before.heapUsed / 2 ** 20).toFixed(0)} -> ${(after.heapUsed / 2 ** 20).toFixed(0)} MB over the profile; ` +
      `${((total / PROFILE_S / ((1000 * METERS) / INTERVAL_MS)) | 0)} bytes allocated per poll`,
  );
  console.log(
    `GCs during the profile: ${gcs.minor} scavenges (one every ${((1000 * PROFILE_S) / Math.max(1, gcs.minor)).toFixed(0)} ms), ` +
      `${gcs.major} other; mean poll duration ${((1000 * readSum) / readCount).toFixed(1)} ms; new space ${((newSpace?.space_size ?? 0) / 2 ** 20).toFixed(1)} MB`,
  );
  console.log(table("by allocation site", site, total, PROFILE_S));
  console.log(table("by the innermost bridge frame", ours, total, PROFILE_S));
  if (CALLERS) console.log(table(`callers of ${CALLERS}`, callers, total, PROFILE_S));
} finally {
  await cleanup();
}
process.exit(0);
