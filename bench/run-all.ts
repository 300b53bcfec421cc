// `make bench`: a short version of every benchmark of issue 9, one table at the end (each script's own env vars
// give the long versions; BENCHMARKS.md has the method and the long results).
import { runCodec } from "./codec.js";
import { runFullPath } from "./full-path.js";
import { runGetAlloc } from "./get-alloc.js";
import { runGetCpu } from "./get-cpu.js";
import { runScrape } from "./scrape.js";
import { machineLoad } from "./lib.js";
import { measureMemory } from "./memory.js";

const rows: [string, string, string][] = [];
const add = (metric: string, value: string | number, target = "") => {
  rows.push([metric, String(value), target]);
  console.error(`  ${metric}: ${value}`);
};
const started = Date.now();
const loadBefore = machineLoad();

console.error("codec (sans-IO, ns of CPU per operation)...");
for (const r of runCodec(3, 50_000)) add(`codec: ${r.operation}`, `${r.ns} ns`);

console.error("client CPU per GET on one association...");
const gets = await runGetCpu(1);
add(
  "socket floor: bare round trip of a GET's size, echo answering at once / after 20 us",
  `${gets.socketFloorUs} / ${gets.socketFloorPeer20Us} us`,
  "(no DLMS)",
);
for (const t of ["hdlc", "wrapper"] as const) {
  const g = gets[t];
  add(`${t}: CPU per GET-normal round trip`, `${g.getNormalUs} us`, "<= 20 us");
  add(`${t}: CPU per attribute, 5-attribute GET-with-list`, `${g.withList5PerAttributeUs} us`, "<= 10 us");
  add(
    `${t}: old pattern vs ours, CPU per 5-value reading`,
    `${g.oldPatternPerReadingUs} / ${g.oursPerReadingUs} us = ${(g.oldPatternPerReadingUs / g.oursPerReadingUs).toFixed(1)}x`,
  );
  add(
    `${t}: old pattern vs ours, round trips per reading`,
    `${g.oldRoundTripsPerReading} / 1 = ${g.oldRoundTripsPerReading}x`,
  );
}

console.error("bytes allocated per GET-normal (client)...");
const alloc = await runGetAlloc(5000);
add("bytes allocated per GET-normal, HDLC / wrapper (client, JS heap)", `${alloc.hdlc.perGet} / ${alloc.wrapper.perGet} B`);

console.error("one /metrics scrape at 10,000 meters, prom-client series vs ours...");
const scrape = await runScrape(10_000, 1);
add(
  "CPU of one /metrics scrape at 10,000 meters: prom-client per-meter series / ours",
  `${scrape.promClientPerMeterSeries.cpuMs} / ${scrape.bridgeNow.cpuMs} ms = ${scrape.ratio}x (${scrape.bridgeNow.series} series)`,
);

console.error("memory per meter (200 and 800 meters at 10 s)...");
// 8 s after the last connect (not 15): most meters have polled once more; the long version is bench/memory.ts.
const small = await measureMemory(200, false, 8);
const large = await measureMemory(800, false, 8);
add("RSS at 200 / 800 meters", `${small.rssMb} / ${large.rssMb} MB (up ${small.up} / ${large.up})`);
add(
  "RSS per added meter",
  `${(((large.rssMb - small.rssMb) * 1024) / (large.meters - small.meters)).toFixed(1)} kB`,
  "<= 15 kB",
);

console.error("full path ceiling (1000 meters at 1 s)...");
const ceiling = await runFullPath({ meters: 1000, intervalMs: 1000, seconds: 10 });
add("full path: polls/s at a 1,000/s load", ceiling.pollsPerSecond, ">= 5,000 at the ceiling");
add("full path: bridge CPU per poll", `${ceiling.bridgeCpuPerPollUs} us`, "<= 120 us");
add("full path: schedule lateness p50 / p99", `${ceiling.latenessMsP50} / ${ceiling.latenessMsP99} ms`, "p99 < 1 s");

console.error("150 ms meters on a 15 s schedule (300 meters, with and without GET-with-list)...");
for (const [label, extra] of [
  ["with list", []],
  ["without list", ["--no-multiple-references"]],
] as const) {
  const r = await runFullPath({ meters: 300, intervalMs: 15_000, seconds: 10, simArgs: ["--delay-ms", "150", ...extra] });
  add(
    `150 ms meters ${label}: up, polls/s, p99 lateness, RSS`,
    `${r.metersUp}/300, ${r.pollsPerSecond}/s, ${r.latenessMsP99} ms, ${r.rssMb} MB`,
  );
}

console.error("backlog drain (500 meters at 10 s, 20 s broker outage)...");
const d = await runFullPath({ meters: 500, intervalMs: 10_000, seconds: 5, outageSeconds: 20 });
if (d.drain) {
  add("drain: backlog / drain time / rate", `${d.drain.backlog} rows / ${d.drain.drainSeconds} s / ${d.drain.drainPerSecond} per s`);
  add("drain: schedule lateness p99 while draining", `${d.drain.latenessMsP99DuringDrain} ms`, "< 1 s");
  add(
    "drain: DB bytes before / at peak / after",
    `${d.drain.dbBytesBeforeOutage} / ${d.drain.dbBytesAtPeak} / ${d.drain.dbBytesAfterDrain}`,
    "shrinks back",
  );
}

const width = Math.max(...rows.map((r) => r[0].length));
const valueWidth = Math.max(...rows.map((r) => r[1].length));
console.log(`\n${"metric".padEnd(width)} | ${"result".padEnd(valueWidth)} | target`);
console.log(`${"-".repeat(width)}-|-${"-".repeat(valueWidth)}-|-------`);
for (const [m, v, t] of rows) console.log(`${m.padEnd(width)} | ${v.padEnd(valueWidth)} | ${t}`);
console.log(`\n${Math.round((Date.now() - started) / 1000)} s; machine ${loadBefore} at the start, ${machineLoad()} at the end`);
process.exit(0);
