// Load-profile backfill throughput and memory: a year of 15-minute rows (35,040) read back from a simulated meter
// in its own process (`dlms-bridge sim --history 366d`) by the bridge's own ProfileBackfill (time windows, rows
// streamed block by block into a real SQLite outbox + cursor), over HDLC and over the wrapper. For comparison, the
// same year as ONE GET decoded whole (client.get, the non-streaming path) and as one GET streamed
// (readProfileRows). Measures wall time, rows/s, CPU time of this process and its peak RSS / heap.
// Run: make build && node --import tsx bench/profile-backfill.ts   (env RUNS=3 DAYS=366 PERIOD=15m)
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DlmsClient } from "../bridge/src/client/client.js";
import {
  readProfileInfo,
  readProfileRows,
} from "../bridge/src/client/profile.js";
import type { LinkSettings } from "../bridge/src/client/types.js";
import { parseObis } from "../bridge/src/dlms/cosem/obis.js";
import { Outbox } from "../bridge/src/outbox/outbox.js";
import { ProfileBackfill } from "../bridge/src/poller/profile/backfill.js";
import { openDatabase } from "../bridge/src/store/db.js";
import { ProfileCursors } from "../bridge/src/store/profile-cursors.js";
import { TcpTransport } from "../bridge/src/transport/tcp.js";

const RUNS = Number(process.env.RUNS ?? 3);
const DAYS = Number(process.env.DAYS ?? 366);
const PERIOD = process.env.PERIOD ?? "15m";
const CLI = new URL("../bridge/bin/dlms-bridge.js", import.meta.url).pathname;
const PROFILE = "1.0.99.1.0.255";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startSim(
  transport: "hdlc" | "wrapper",
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const args = [
    CLI,
    "sim",
    "--transport",
    transport,
    "--port",
    String(port),
    "--log-level",
    "warn",
  ];
  args.push(
    "--profile-period",
    PERIOD,
    "--history",
    `${DAYS * 24}h`,
    "--profile-rows",
    "1000000",
  );
  const child = spawn("node", args, { stdio: ["ignore", "ignore", "inherit"] });
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const open = await new Promise<boolean>((resolve) => {
      const t = new TcpTransport({
        host: "127.0.0.1",
        port,
        connectTimeoutMs: 500,
      });
      t.open().then(
        () => {
          t.close();
          resolve(true);
        },
        () => resolve(false),
      );
    });
    if (open) return { child, port };
  }
  throw new Error("simulator did not start");
}

function client(transport: "hdlc" | "wrapper", port: number): DlmsClient {
  const link: LinkSettings =
    transport === "hdlc"
      ? { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } }
      : { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } };
  return new DlmsClient({
    transport: new TcpTransport({
      host: "127.0.0.1",
      port,
      connectTimeoutMs: 2000,
    }),
    link,
    auth: { mechanism: "none" },
    timeoutMs: 5000,
    requestDeadlineMs: 600_000,
    maxReplyBytes: 64 * 1024 * 1024,
  });
}

interface Sample {
  /** Largest heap still in use after a full GC, sampled while the rows flow (the live set, garbage excluded). */
  liveHeapMb: number;
  rows: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  peakHeapMb: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");
let liveBase = 0;
let livePeak = 0;
/** Full GC, then the heap in use: called by the cases every 1,000 rows and with the whole value in hand. */
function probe(): void {
  gc!();
  livePeak = Math.max(livePeak, process.memoryUsage().heapUsed - liveBase);
}

/** Runs `work` while sampling RSS/heap every 20 ms; RSS/heap are reported above the level before the run. */
async function measure(work: () => Promise<number>): Promise<Sample> {
  gc!();
  liveBase = process.memoryUsage().heapUsed;
  livePeak = 0;
  const baseRss = process.memoryUsage().rss;
  const baseHeap = process.memoryUsage().heapUsed;
  let peakRss = baseRss;
  let peakHeap = baseHeap;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const rows = await work();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  clearInterval(timer);
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
  return {
    liveHeapMb: livePeak / 2 ** 20,
    rows,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMb: (peakRss - baseRss) / 2 ** 20,
    peakHeapMb: (peakHeap - baseHeap) / 2 ** 20,
  };
}

/** The bridge's backfill: windows sized for a 15-minute poll interval, rows into a real SQLite outbox. */
async function backfill(
  transport: "hdlc" | "wrapper",
  port: number,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "dlms-bench-profile-"));
  const db = openDatabase(join(dir, "bench.db"));
  const outbox = new Outbox(db, { maxRows: 10_000_000 });
  let rows = 0;
  const meter = {
    id: "bench",
    profiles: [
      { obis: PROFILE, keys: {}, backfillMs: (DAYS + 1) * 86_400_000 },
    ],
  };
  const bf = new ProfileBackfill(meter, {
    cursors: new ProfileCursors(db, outbox),
    hooks: {
      onRows: (_m, _p, n) => {
        if (Math.floor((rows + n) / 1000) > Math.floor(rows / 1000)) probe();
        rows += n;
      },
      onLag: () => {},
      onCaughtUp: () => {},
      onProblem: (_m, _p, e) => console.error(e),
    },
  });
  const c = client(transport, port);
  await c.connect();
  const work = bf.work(c, { driftMs: 0, deviationMinutes: 0 })!;
  while ((work.dueAt() ?? Number.POSITIVE_INFINITY) <= Date.now())
    await work.step(900_000);
  await c.release();
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

async function oneGet(
  transport: "hdlc" | "wrapper",
  port: number,
  streamed: boolean,
): Promise<number> {
  const c = client(transport, port);
  await c.connect();
  const info = await readProfileInfo(c, PROFILE);
  let rows = 0;
  if (streamed) {
    let seen = 0;
    rows = await readProfileRows(c, info, { kind: "all" }, (batch) => {
      if (Math.floor((seen + batch.length) / 1000) > Math.floor(seen / 1000)) probe();
      seen += batch.length;
    });
  } else {
    const data = await c.get({
      classId: 7,
      instanceId: parseObis(PROFILE),
      attributeId: 2,
    });
    probe(); // the whole year in hand
    rows = data.type === "array" ? data.value.length : 0;
  }
  await c.release();
  return rows;
}

const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[], digits = 1) =>
  `${median(xs).toFixed(digits)} (${xs.map((x) => x.toFixed(digits)).join(" / ")})`;

const results: { name: string; samples: Sample[] }[] = [];
for (const transport of ["hdlc", "wrapper"] as const) {
  const { child, port } = await startSim(transport);
  try {
    for (const [name, run] of [
      [
        `${transport}: bridge backfill (windows, streamed, SQLite outbox)`,
        () => backfill(transport, port),
      ],
      [
        `${transport}: one GET of the whole buffer, streamed`,
        () => oneGet(transport, port, true),
      ],
      [
        `${transport}: one GET of the whole buffer, decoded whole`,
        () => oneGet(transport, port, false),
      ],
    ] as const) {
      const samples: Sample[] = [];
      for (let i = 0; i < RUNS; i++) samples.push(await measure(run));
      results.push({ name, samples });
      console.error(`${name}: done`);
    }
  } finally {
    child.kill("SIGTERM");
  }
}

console.log(
  `rows per run: ${results[0]!.samples[0]!.rows} (${DAYS} days of ${PERIOD} rows); medians of ${RUNS} (runs)`,
);
console.log(
  "| case | rows/s | wall s | CPU s | live heap (after GC), MB | peak RSS above start, MB | peak heap incl. garbage, MB |",
);
console.log("|---|---|---|---|---|---|---|");
for (const { name, samples } of results) {
  const rowsPerS = samples.map((s) => s.rows / s.seconds);
  console.log(
    `| ${name} | ${fmt(rowsPerS, 0)} | ${fmt(samples.map((s) => s.seconds))} | ${fmt(samples.map((s) => s.cpuSeconds))} | ${fmt(samples.map((s) => s.liveHeapMb))} | ${fmt(samples.map((s) => s.peakRssMb))} | ${fmt(samples.map((s) => s.peakHeapMb))} |`,
  );
}
