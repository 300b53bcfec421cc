// Shared plumbing of the benchmarks: child processes (broker, simulator, bridge), /proc readings, quantiles.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";

export const CLI = new URL("../bridge/bin/dlms-bridge.js", import.meta.url).pathname;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const children: ChildProcess[] = [];

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "dlms-bench-"));
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, quiet = false): ChildProcess {
  const stdio = ["ignore", "ignore", quiet ? "ignore" : "inherit"] as const;
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: [...stdio] });
  children.push(child);
  return child;
}

export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}

/** Resolves once something accepts TCP connections on `port` (a child process finished starting). */
export async function waitForPort(port: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

/** A private Mosquitto on a free port (no persistence, unlimited queue). */
export async function startBroker(dir: string): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const conf = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n`);
  const child = start("mosquitto", ["-c", conf], {}, true);
  await waitForPort(port);
  return { port, child };
}

/** `dlms-bridge sim` with `count` meters on one shared port. */
export async function startSim(count: number, extra: string[] = []): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = start("node", [CLI, "sim", "--port", String(port), "--count", String(count), "--shared-port", "--log-level", "warn", ...extra]);
  await waitForPort(port);
  return { port, child };
}

export interface BridgeRun {
  child: ChildProcess;
  httpPort: number;
  metrics(): Promise<string>;
}

/** METER_M0.. lines for `meters` simulator meters on one port (HDLC physical addresses 16.., wrapper servers 1..). */
function meterEnv(opts: {
  simPort: number;
  meters: number;
  intervalMs: number;
  meterQuery?: string;
  transport?: "hdlc" | "wrapper";
}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  const q = opts.meterQuery ?? "timeout=5s";
  for (let i = 0; i < opts.meters; i++) {
    env[`METER_M${i}`] =
      opts.transport === "wrapper"
        ? `wrapper://127.0.0.1:${opts.simPort}?server=${1 + i}&interval=${opts.intervalMs}ms&${q}`
        : `hdlc://127.0.0.1:${opts.simPort}?physical=${16 + i}&interval=${opts.intervalMs}ms&${q}`;
  }
  return env;
}

/**
 * AS_IMAGE=1: the bridge runs as it does in the compose stack, read from the files that define it: the image's
 * NODE_OPTIONS and LD_PRELOAD (bridge/Dockerfile; jemalloc from the host's Debian package), and V8's old-generation
 * limit that Node derives from the container's memory limit (docker-compose.yml's mem_limit for the bridge: half of
 * it on 64-bit, 768m -> 384 MB). Measured: heap_size_limit is then the same on the host as in the container (408 MB
 * with the image's semi-space of 8 MB). Without it a host with 24 GB gives V8 a 4 GB limit and its largest heap
 * growing factor, which the container never has.
 */
export function imageRuntime(): { nodeArgs: string[]; env: Record<string, string> } {
  const root = new URL("..", import.meta.url).pathname;
  const dockerfile = readFileSync(join(root, "bridge/Dockerfile"), "utf8");
  const nodeOptions = dockerfile.match(/^\s*NODE_OPTIONS=(\S+)/m)?.[1];
  const compose = parseYaml(readFileSync(join(root, "docker-compose.yml"), "utf8")) as {
    services?: { bridge?: { mem_limit?: string } };
  };
  const memLimitMb = compose.services?.bridge?.mem_limit?.match(/^(\d+)m$/)?.[1];
  if (!nodeOptions || !memLimitMb) {
    throw new Error("AS_IMAGE: NODE_OPTIONS in bridge/Dockerfile or the bridge's mem_limit (in m) in docker-compose.yml not found");
  }
  const jemalloc = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
  if (!existsSync(jemalloc)) throw new Error(`AS_IMAGE: ${jemalloc} missing (apt-get install libjemalloc2)`);
  return {
    nodeArgs: [...nodeOptions.replace(/^"|"$/g, "").split(" "), `--max-old-space-size=${Number(memLimitMb) / 2}`],
    env: { LD_PRELOAD: jemalloc },
  };
}

/** `dlms-bridge run` reading `meters` simulator meters (physical addresses 16..) at `intervalMs`. */
export async function startBridge(opts: {
  dir: string;
  mqttPort: number;
  simPort: number;
  meters: number;
  intervalMs: number;
  meterQuery?: string;
  transport?: "hdlc" | "wrapper";
  nodeArgs?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<BridgeRun> {
  const httpPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    MQTT_URL: `mqtt://127.0.0.1:${opts.mqttPort}`,
    HTTP_PORT: String(httpPort),
    DB_PATH: join(opts.dir, `bridge-${httpPort}.db`),
    LOG_LEVEL: "warn",
    MQTT_CLIENT_ID: `dlms-bridge-bench-${httpPort}`,
    // BRIDGE_ENV="K=V K2=V2" (e.g. MALLOC_ARENA_MAX=2): allocator settings for the bridge alone, not the bench.
    ...Object.fromEntries((process.env.BRIDGE_ENV ?? "").split(" ").filter(Boolean).map((kv) => kv.split("=", 2))),
    ...opts.env,
  };
  const image = process.env.AS_IMAGE === "1" ? imageRuntime() : { nodeArgs: [], env: {} };
  Object.assign(env, image.env);
  Object.assign(env, meterEnv(opts));
  const envFile = join(opts.dir, "bench.env"); // empty: the meters come from the environment
  writeFileSync(envFile, "");
  // BRIDGE_NODE_ARGS (e.g. "--max-semi-space-size=4") reaches every bench that spawns the bridge: V8 flags side by side.
  const extra = (process.env.BRIDGE_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = start("node", [...image.nodeArgs, ...(opts.nodeArgs ?? []), ...extra, CLI, "run", "--env", envFile], env);
  return {
    child,
    httpPort,
    metrics: async () => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text(),
  };
}

/** utime+stime of a process in seconds, from /proc (Linux). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ 100)
}

export function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return Number(m?.[1] ?? 0) / 1024;
}

/**
 * Where a process's RSS lives, from /proc/<pid>/smaps (MB): file-backed pages (the node binary, libraries, ICU),
 * the brk heap (glibc's main arena: node's own C++ objects, libuv handles, small Buffers), and anonymous
 * mappings (V8's heap pages, glibc's per-thread arenas, large Buffers). V8's heapTotal is a part of `anon`.
 */
export function rssBreakdownMb(pid: number): { file: number; brk: number; anon: number } {
  const out = { file: 0, brk: 0, anon: 0 };
  let kind: keyof typeof out = "anon";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const header = line.match(/^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/);
    if (header) {
      const name = header[2]!;
      kind = name === "[heap]" ? "brk" : header[1] !== "0" || name.startsWith("/") ? "file" : "anon";
      continue;
    }
    const rss = line.match(/^Rss:\s+(\d+) kB/);
    if (rss) out[kind] += Number(rss[1]) / 1024;
  }
  return { file: +out.file.toFixed(1), brk: +out.brk.toFixed(1), anon: +out.anon.toFixed(1) };
}

export function metersUp(metrics: string): number {
  return [...metrics.matchAll(/^dlms_bridge_meter_up\{[^}]*\} 1$/gm)].length;
}

export function metricValue(metrics: string, name: string): number {
  return Number(metrics.match(new RegExp(`^${name} (\\S+)`, "m"))?.[1] ?? Number.NaN);
}

/** Sum over all series of a counter/gauge, optionally only series whose labels contain `filter`. */
export function metricSum(metrics: string, name: string, filter = ""): number {
  let sum = 0;
  for (const m of metrics.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)`, "gm"))) {
    if (m[1]!.includes(filter)) sum += Number(m[2]);
  }
  return sum;
}

/** Waits until `want` meters are up (or `timeoutMs` passes); returns how many are. */
export async function waitForMetersUp(bridge: BridgeRun, want: number, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  let up = 0;
  while (Date.now() < until) {
    if (bridge.child.exitCode !== null) throw new Error(`the bridge exited with ${bridge.child.exitCode}`);
    try {
      up = metersUp(await bridge.metrics());
      if (up >= want) return up;
    } catch {
      // HTTP not up yet
    }
    await sleep(1000);
  }
  return up;
}

export function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Load of the machine while a bench ran (1-minute load average and core count), for the report. */
export function machineLoad(): string {
  const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
  const cores = readFileSync("/proc/cpuinfo", "utf8").match(/^processor/gm)?.length ?? 0;
  return `loadavg ${load} on ${cores} cores`;
}

process.on("exit", killAll);

/** A bridge running in the caller's process (from bridge/dist), with its simulator and Mosquitto as processes. */
export interface InProcessBridge {
  app: Awaited<ReturnType<typeof import("../bridge/src/app.js").startBridge>>;
  /** Stops the simulator and the broker and removes the temp dir (stop the app first). */
  cleanup(): Promise<void>;
}

/**
 * Starts `meters` simulated meters (startSim), a Mosquitto (startBroker), and the bridge IN this process, so the
 * caller can sample its heap (process.memoryUsage, the inspector) directly. The bridge's own code comes from
 * bridge/dist (`make build`).
 */
export async function startBridgeInProcess(opts: { meters: number; intervalMs: number; name: string }): Promise<InProcessBridge> {
  const dir = tempDir();
  const own: ChildProcess[] = [];
  const cleanup = async () => {
    await Promise.all(own.map(stop));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const broker = await startBroker(dir);
    own.push(broker.child);
    const sim = await startSim(opts.meters);
    own.push(sim.child);
    const env: NodeJS.ProcessEnv = {
      MQTT_URL: `mqtt://127.0.0.1:${broker.port}`,
      HTTP_PORT: "0",
      HTTP_HOST: "127.0.0.1",
      DB_PATH: join(dir, "bridge.db"),
      LOG_LEVEL: "warn",
      MQTT_CLIENT_ID: `dlms-bridge-${opts.name}`,
      ...meterEnv({ simPort: sim.port, meters: opts.meters, intervalMs: opts.intervalMs }),
    };
    const dist = new URL("../bridge/dist/", import.meta.url);
    const { loadConfig } = (await import(new URL("config/load.js", dist).href)) as typeof import("../bridge/src/config/load.js");
    const { createLogger } = (await import(new URL("log.js", dist).href)) as typeof import("../bridge/src/log.js");
    const { startBridge } = (await import(new URL("app.js", dist).href)) as typeof import("../bridge/src/app.js");
    const loaded = loadConfig(env);
    if (!loaded.ok) throw new Error(loaded.errors.join("; "));
    return { app: await startBridge(loaded.config, createLogger("warn", opts.name)), cleanup };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** A node of V8's sampling heap profile. */
export interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/**
 * V8's sampling heap profile of what this process allocates while `work` runs, every sampled allocation counted
 * (also those freed again by a scavenge or a full GC): where the allocation rate comes from.
 */
export async function sampleAllocations(work: () => Promise<void>, samplingInterval: number): Promise<ProfileNode> {
  const session = new Session();
  session.connect();
  try {
    await session.post("HeapProfiler.enable");
    await session.post("HeapProfiler.startSampling", {
      samplingInterval,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await work();
    const { profile } = (await session.post("HeapProfiler.stopSampling")) as { profile: { head: ProfileNode } };
    return profile.head;
  } finally {
    session.disconnect();
  }
}
