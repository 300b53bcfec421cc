// End-to-end throughput of the real bridge process: simulated meters (DLMS over TCP) -> `dlms-bridge run`
// (poller, DLMS client, SQLite outbox, MQTT QoS 1) -> Mosquitto -> a subscriber here. Three separate processes,
// so the numbers are the bridge's own CPU and memory.
// Run: make build && node --import tsx bench/bridge-e2e.ts   (env: METERS=1000 INTERVAL_MS=10000 BENCH_SECONDS=60)

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "mqtt";

const METERS = Number(process.env.METERS ?? 1000);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const CLI = new URL("../bridge/bin/dlms-bridge.js", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "dlms-bench-"));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, quiet = false): ChildProcess {
  const stdio = ["ignore", "ignore", quiet ? "ignore" : "inherit"] as const;
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: [...stdio] });
  children.push(child);
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** utime+stime of a process in seconds, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks (USER_HZ 100)
}
function rssMb(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return Number(m?.[1] ?? 0) / 1024;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : Number.NaN;
}

/** Quantile from a Prometheus histogram summed over all series (upper bound of the bucket that holds it). */
function histogramQuantile(metrics: string, name: string, q: number): number {
  const buckets = new Map<number, number>();
  for (const m of metrics.matchAll(new RegExp(`^${name}_bucket\\{[^}]*le="([^"]+)"[^}]*\\} (\\d+)`, "gm"))) {
    const le = m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  return sorted.find(([, count]) => count >= q * total)?.[0] ?? Number.NaN;
}

async function main() {
  const [mqttPort, simPort, httpPort] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dir, "mosquitto.conf"), `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n`);
  start("mosquitto", ["-c", join(dir, "mosquitto.conf")], {}, true);
  start("node", [CLI, "sim", "--port", String(simPort), "--count", String(METERS), "--shared-port", "--log-level", "warn"]);
  await sleep(1500);

  const env: NodeJS.ProcessEnv = {
    MQTT_URL: `mqtt://127.0.0.1:${mqttPort}`,
    HTTP_PORT: String(httpPort),
    DB_PATH: join(dir, "bridge.db"),
    LOG_LEVEL: "warn",
    MQTT_CLIENT_ID: "dlms-bridge-bench",
  };
  for (let i = 0; i < METERS; i++) {
    env[`METER_M${i}`] = `hdlc://127.0.0.1:${simPort}?physical=${16 + i}&interval=${INTERVAL_MS}ms&timeout=5s`;
  }
  writeFileSync(join(dir, "bench.env"), ""); // the meters come from the environment
  const bridge = start("node", [CLI, "run", "--env", join(dir, "bench.env")], env);

  const latencies: number[] = [];
  let received = 0;
  let measuring = false;
  const sub = connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId: "bench-sub" });
  sub.on("connect", () => sub.subscribe("dlms/+/telemetry", { qos: 1 }));
  sub.on("message", (_topic, payload) => {
    if (!measuring) return;
    received++;
    latencies.push(Date.now() - (JSON.parse(payload.toString()) as { ts: number }).ts);
  });

  await sleep(INTERVAL_MS + 5000); // warm-up: every meter associates once
  measuring = true;
  const cpu0 = cpuSeconds(bridge.pid!);
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  const wall = (Date.now() - t0) / 1000;
  const cpu = (cpuSeconds(bridge.pid!) - cpu0) / wall;
  measuring = false;
  const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const pending = metrics.match(/^dlms_bridge_outbox_pending (\S+)/m)?.[1];
  const up = [...metrics.matchAll(/^dlms_bridge_meter_up\{[^}]*\} 1$/gm)].length;
  latencies.sort((a, b) => a - b);
  const result = {
    meters: METERS,
    intervalMs: INTERVAL_MS,
    seconds: SECONDS,
    targetReadingsPerSecond: METERS / (INTERVAL_MS / 1000),
    deliveredReadingsPerSecond: Math.round((received / wall) * 10) / 10,
    metersUp: up,
    bridgeCpuPercentOfOneCore: Math.round(cpu * 1000) / 10,
    bridgeRssMb: Math.round(rssMb(bridge.pid!)),
    readToDeliveryMsP50: quantile(latencies, 0.5),
    readToDeliveryMsP95: quantile(latencies, 0.95),
    readDurationSecondsP50: histogramQuantile(metrics, "dlms_bridge_read_duration_seconds", 0.5),
    readDurationSecondsP95: histogramQuantile(metrics, "dlms_bridge_read_duration_seconds", 0.95),
    outboxPendingAtEnd: Number(pending),
  };
  console.log(JSON.stringify(result, null, 2));
  sub.end(true);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill("SIGKILL");
  });
