// End-to-end harness: the real `dlms-bridge run` as a child process (tsx from bridge/), an MQTT recorder on the
// real broker, and small readers for /metrics and /api/meters. Every process a test starts is tracked here so
// `cleanup()` can end it even when the test failed half-way.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import mqtt, { type MqttClient } from "mqtt";

/** bridge/ (tsx resolves from its node_modules: the child must run there). */
export const BRIDGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

export async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` (sync or async) until it holds; fails naming `what` after timeoutMs. */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Temp dirs and the bridge process

const tempDirs: string[] = [];
const children = new Set<BridgeProcess>();

export async function tempDir(prefix = "dlms-e2e-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export interface BridgeProcess {
  child: ChildProcess;
  pid: number;
  /** Everything written so far (JSON log lines on stdout; config errors on stderr). */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Port of the HTTP surface, from the "bridge started" log line (HTTP_PORT=0 lets the OS choose). */
  httpPort(): Promise<number>;
  /** Parsed JSON log lines of stdout. */
  logs(): Record<string, unknown>[];
}

/**
 * Starts `node --import tsx src/cli/main.ts run --env <empty file>` with exactly `env` (plus PATH/HOME), so no
 * stray .env or variable of the test runner reaches it.
 */
export async function startBridge(env: Record<string, string>, args: string[] = []): Promise<BridgeProcess> {
  const dir = await tempDir("dlms-e2e-env-");
  const envFile = join(dir, "empty.env");
  await writeFile(envFile, "");
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "run", "--env", envFile, ...args], {
    cwd: BRIDGE_DIR,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
  const logs = () =>
    stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  const handle: BridgeProcess = {
    child,
    pid: child.pid ?? -1,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    logs,
    async httpPort() {
      let port: number | undefined;
      await waitUntil(
        () => {
          if (child.exitCode !== null) throw new Error(`bridge exited with ${child.exitCode}: ${stderr}${stdout}`);
          const started = logs().find((l) => l.msg === "bridge started");
          port = typeof started?.httpPort === "number" ? started.httpPort : undefined;
          return port !== undefined;
        },
        "the 'bridge started' log line",
        20_000,
      );
      return port!;
    },
  };
  children.add(handle);
  void exited.then(() => children.delete(handle));
  return handle;
}

/** SIGKILLs every bridge still running and removes temp dirs (afterEach/afterAll). */
export async function cleanupProcesses(): Promise<void> {
  await Promise.all(
    [...children].map(async (b) => {
      if (b.child.exitCode === null && b.child.signalCode === null) b.child.kill("SIGKILL");
      await b.exited;
    }),
  );
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** The environment of a bridge: no .env defaults leak in; LOG_LEVEL info so the started line shows the port. */
export function bridgeEnv(options: {
  mqttUrl: string;
  dbPath: string;
  meters: Record<string, string>;
  extra?: Record<string, string>;
}): Record<string, string> {
  const env: Record<string, string> = {
    MQTT_URL: options.mqttUrl,
    MQTT_CLIENT_ID: `e2e-bridge-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    HTTP_PORT: "0",
    HTTP_HOST: "127.0.0.1",
    DB_PATH: options.dbPath,
    LOG_LEVEL: "info",
    ...options.extra,
  };
  for (const [id, url] of Object.entries(options.meters)) env[`METER_${id.toUpperCase()}`] = url;
  return env;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP surface

export async function httpGet(port: number, path: string): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return response.text();
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format -> samples (enough for prom-client output: no escapes in our label values). */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[pair[1]!] = pair[2]!;
    }
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of one sample (0 when absent, as for a counter not yet incremented). */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export async function scrape(port: number): Promise<Sample[]> {
  return parseMetrics(await httpGet(port, "/metrics"));
}

export interface ApiMeter {
  id: string;
  up: boolean;
  connected: boolean;
  breaker: string;
  consecutiveFailures: number;
  lastResult: string | null;
  lastSuccess: number | null;
  lastError: string | null;
  skippedSlots: number;
  [key: string]: unknown;
}

export async function apiMeters(port: number): Promise<ApiMeter[]> {
  return JSON.parse(await httpGet(port, "/api/meters")) as ApiMeter[];
}

/** Polls that produced a reading (ok or partial) per meter, as counted by the bridge. */
export function readingsCounted(samples: Sample[], meter: string): number {
  return (
    metricValue(samples, "dlms_bridge_meter_reads_total", { meter, result: "ok" }) +
    metricValue(samples, "dlms_bridge_meter_reads_total", { meter, result: "partial" })
  );
}

// ---------------------------------------------------------------------------------------------------------------
// MQTT recorder

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  at: number;
}

/** A telemetry message as published (docs/contracts.md): {"meter","ts","values":{<key>:<number>}}. */
export interface Telemetry {
  meter: string;
  ts: number;
  values: Record<string, number>;
}

export interface Recorder {
  client: MqttClient;
  messages: Received[];
  /** Telemetry of one meter in arrival order, deduplicated by ts (QoS 1 may deliver twice). */
  telemetry(meter: string): Telemetry[];
  /** Telemetry of one meter in arrival order, duplicates included. */
  rawTelemetry(meter: string): Telemetry[];
  /** The last message on a topic (any retain flag), parsed if JSON. */
  last(topic: string): Received | undefined;
  /** Subscribes again (after a broker restart, which forgets subscriptions: persistence is off). */
  resubscribe(): Promise<void>;
  close(): Promise<void>;
}

const recorders = new Set<Recorder>();

export async function record(
  url: string,
  topics: string[] = ["dlms/#"],
  credentials?: { username: string; password: string },
): Promise<Recorder> {
  const client = await mqtt.connectAsync(url, {
    reconnectPeriod: 100,
    clean: true,
    clientId: `e2e-sub-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    ...credentials,
  });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), retain: packet.retain, at: Date.now() });
  });
  client.on("error", () => undefined); // reconnects are expected while the broker is down
  await client.subscribeAsync(topics, { qos: 1 });
  const rawTelemetry = (meter: string) =>
    messages.filter((m) => m.topic === `dlms/${meter}/telemetry`).map((m) => JSON.parse(m.payload) as Telemetry);
  const recorder: Recorder = {
    client,
    messages,
    rawTelemetry,
    telemetry(meter) {
      const seen = new Set<number>();
      return rawTelemetry(meter).filter((t) => {
        if (seen.has(t.ts)) return false;
        seen.add(t.ts);
        return true;
      });
    },
    last(topic) {
      return messages.filter((m) => m.topic === topic).at(-1);
    },
    async resubscribe() {
      await waitUntil(() => client.connected, "the MQTT recorder to reconnect", 15_000);
      await client.subscribeAsync(topics, { qos: 1 });
    },
    async close() {
      recorders.delete(recorder);
      await client.endAsync(true);
    },
  };
  recorders.add(recorder);
  return recorder;
}

export async function cleanupRecorders(): Promise<void> {
  await Promise.all([...recorders].map((r) => r.close()));
}

// ---------------------------------------------------------------------------------------------------------------
// Checks shared by the scenarios

/**
 * Position of each reading on the meter's fixed-rate grid. ts is taken when the poll starts, at its slot plus some
 * lateness in [0, interval) (a busy event loop, a loaded test machine). The grid's phase is taken as the reading
 * phase (ts mod interval) that makes the readings' total lateness smallest, so a few late polls do not shift it;
 * each reading then lies in slot floor((ts - phase) / interval). (Rounding the distance to the first reading
 * counted two slots as one whenever the first poll was more than half an interval late.) Returns indices from 0.
 */
export function slotIndices(readings: Telemetry[], intervalMs: number): number[] {
  if (readings.length === 0) return [];
  const phases = readings.map((r) => ((r.ts % intervalMs) + intervalMs) % intervalMs);
  const lateness = (grid: number) => phases.reduce((sum, p) => sum + ((p - grid + intervalMs) % intervalMs), 0);
  const gridPhase = phases.reduce((best, p) => (lateness(p) < lateness(best) ? p : best));
  const slot = (ts: number) => Math.floor((ts - gridPhase) / intervalMs);
  const first = slot(readings[0]!.ts);
  return readings.map((r) => slot(r.ts) - first);
}

/** Slots without a reading between the first and the last reading (0 = none missing). */
export function missingSlots(readings: Telemetry[], intervalMs: number): number {
  const slots = slotIndices(readings, intervalMs);
  return slots.length === 0 ? 0 : slots.at(-1)! - (slots.length - 1);
}

/**
 * One reading per grid slot from the first to the last, however late each started on a loaded machine: n readings
 * span at most n - 1 intervals (a skipped slot makes the span reach n intervals).
 */
export function servedEverySlot(readings: Telemetry[], intervalMs: number): boolean {
  if (readings.length < 2) return true;
  const span = readings.at(-1)!.ts - readings[0]!.ts;
  return Math.floor(span / intervalMs) <= readings.length - 1;
}

/** True when the (deduplicated, arrival-ordered) timestamps strictly increase: no reordering. */
export function inOrder(readings: Telemetry[]): boolean {
  return readings.every((r, i) => i === 0 || r.ts > readings[i - 1]!.ts);
}
