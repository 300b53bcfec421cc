// The full path of one `dlms-bridge run` process: simulator (another process) -> bridge (poller, DLMS client,
// SQLite outbox, MQTT QoS 1) -> real Mosquitto -> a QoS 1 subscriber here. Three modes:
//   ceiling  polls/s at a given load, bridge CPU per poll, schedule lateness (issue 9 target 3)
//   latency  the simulator answers every request after DELAY_MS (150 ms, a real meter's order), with and without
//            GET-with-list (target 4)
//   drain    broker down for OUTAGE_S while polling goes on, then the backlog drains (target 5)
// Schedule lateness of a reading = its ts (taken when the poll starts) minus the meter's grid slot
// (phase + k x interval, the poller's own phaseOffsetMs), so it is measured from outside the process.
// Run: make build && node --import tsx bench/full-path.ts ceiling|latency|drain
//   env: METERS, INTERVAL_MS, BENCH_SECONDS, DELAY_MS (latency), OUTAGE_S (drain)
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { connect } from "mqtt";
import { phaseOffsetMs } from "../bridge/src/poller/schedule.js";
import {
  type BridgeRun,
  cpuSeconds,
  machineLoad,
  metricSum,
  metricValue,
  metersUp,
  quantile,
  rssMb,
  sleep,
  startBridge,
  startBroker,
  startSim,
  stop,
  tempDir,
  waitForMetersUp,
  waitForPort,
} from "./lib.js";

export interface FullPathOptions {
  meters: number;
  intervalMs: number;
  seconds: number;
  simArgs?: string[];
  /** Broker down this long after warm-up, then back (drain mode). */
  outageSeconds?: number;
}

export interface FullPathResult {
  meters: number;
  intervalMs: number;
  targetPollsPerSecond: number;
  /** Successful polls per second, from the bridge's own dlms_bridge_meter_reads_total. */
  pollsPerSecond: number;
  /** Telemetry messages the subscriber received per second (may include readings queued earlier). */
  deliveredPerSecond: number;
  metersUp: number;
  bridgeCpuPercent: number;
  bridgeCpuPerPollUs: number;
  latenessMsP50: number;
  latenessMsP99: number;
  rssMb: number;
  outboxPendingAtEnd: number;
  drain?: {
    backlog: number;
    drainSeconds: number;
    drainPerSecond: number;
    latenessMsP99DuringDrain: number;
    dbBytesBeforeOutage: number;
    dbBytesAtPeak: number;
    dbBytesAfterDrain: number;
  };
}

function dbBytes(dir: string): number {
  let total = 0;
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      total += statSync(`${dir}${suffix}`).size;
    } catch {
      // not there
    }
  }
  return total;
}

export async function runFullPath(o: FullPathOptions): Promise<FullPathResult> {
  const dir = tempDir();
  let broker = await startBroker(dir);
  const sim = await startSim(o.meters, o.simArgs ?? []);
  const bridge: BridgeRun = await startBridge({
    dir,
    mqttPort: broker.port,
    simPort: sim.port,
    meters: o.meters,
    intervalMs: o.intervalMs,
    env: { MAX_CONCURRENT_CONNECTS: "64" },
  });
  const dbPath = join(dir, `bridge-${bridge.httpPort}.db`);
  const phase = new Map<string, number>();
  const lateness: number[] = [];
  const drainLateness: number[] = [];
  let received = 0;
  let measuring = false;
  let draining = false;
  const subscribe = () => {
    const sub = connect(`mqtt://127.0.0.1:${broker.port}`, { clientId: "bench-sub", clean: false, reconnectPeriod: 500 });
    sub.on("connect", () => sub.subscribe("dlms/+/telemetry", { qos: 1 }));
    sub.on("message", (topic, payload) => {
      if (!measuring) return;
      received++;
      const meter = topic.split("/")[1]!;
      let p = phase.get(meter);
      if (p === undefined) {
        p = phaseOffsetMs(meter, o.intervalMs);
        phase.set(meter, p);
      }
      const ts = (JSON.parse(payload.toString()) as { ts: number }).ts;
      const late = (((ts - p) % o.intervalMs) + o.intervalMs) % o.intervalMs;
      (draining ? drainLateness : lateness).push(late);
    });
    return sub;
  };
  let sub = subscribe();
  try {
    const up = await waitForMetersUp(bridge, o.meters, 120_000 + o.meters * 10);
    await sleep(o.intervalMs); // every meter has polled at least once on its grid
    let drain: FullPathResult["drain"];
    if (o.outageSeconds) {
      measuring = true; // lateness before and during the outage counts too
      const before = dbBytes(dbPath);
      sub.end(true);
      await stop(broker.child);
      await sleep(o.outageSeconds * 1000);
      const backlog = metricValue(await bridge.metrics(), "dlms_bridge_outbox_pending");
      const peak = dbBytes(dbPath);
      broker = await restartBroker(dir, broker.port);
      draining = true;
      sub = subscribe();
      const t0 = Date.now();
      let pending = backlog;
      while (Date.now() - t0 < 600_000) {
        await sleep(500);
        pending = metricValue(await bridge.metrics(), "dlms_bridge_outbox_pending");
        if (pending <= o.meters / (o.intervalMs / 1000)) break; // down to about one second of fresh readings
      }
      const drainSeconds = (Date.now() - t0) / 1000;
      await sleep(3000); // the WAL checkpoint after a drain
      draining = false;
      drainLateness.sort((a, b) => a - b);
      drain = {
        backlog,
        drainSeconds: +drainSeconds.toFixed(1),
        drainPerSecond: Math.round(backlog / drainSeconds),
        latenessMsP99DuringDrain: quantile(drainLateness, 0.99),
        dbBytesBeforeOutage: before,
        dbBytesAtPeak: peak,
        dbBytesAfterDrain: dbBytes(dbPath),
      };
    }
    measuring = true;
    received = 0;
    lateness.length = 0;
    const polls0 = metricSum(await bridge.metrics(), "dlms_bridge_meter_reads_total", 'result="ok"');
    const cpu0 = cpuSeconds(bridge.child.pid!);
    const t0 = Date.now();
    await sleep(o.seconds * 1000);
    const wall = (Date.now() - t0) / 1000;
    const cpu = cpuSeconds(bridge.child.pid!) - cpu0;
    measuring = false;
    const metrics = await bridge.metrics();
    lateness.sort((a, b) => a - b);
    const delivered = received / wall;
    const polls = (metricSum(metrics, "dlms_bridge_meter_reads_total", 'result="ok"') - polls0) / wall;
    return {
      meters: o.meters,
      intervalMs: o.intervalMs,
      targetPollsPerSecond: +(o.meters / (o.intervalMs / 1000)).toFixed(1),
      pollsPerSecond: +polls.toFixed(1),
      deliveredPerSecond: +delivered.toFixed(1),
      metersUp: Math.max(up, metersUp(metrics)),
      bridgeCpuPercent: +((cpu / wall) * 100).toFixed(1),
      bridgeCpuPerPollUs: polls > 0 ? Math.round((cpu / wall / polls) * 1e6) : Number.NaN,
      latenessMsP50: quantile(lateness, 0.5),
      latenessMsP99: quantile(lateness, 0.99),
      rssMb: Math.round(rssMb(bridge.child.pid!)),
      outboxPendingAtEnd: metricValue(metrics, "dlms_bridge_outbox_pending"),
      ...(drain ? { drain } : {}),
    };
  } finally {
    sub.end(true);
    await Promise.all([stop(bridge.child), stop(sim.child), stop(broker.child)]);
    rmSync(dir, { recursive: true, force: true }); // the outbox DB and broker config of this run
  }
}

async function restartBroker(dir: string, port: number) {
  const { start } = await import("./lib.js");
  const child = start("mosquitto", ["-c", join(dir, `mosquitto-${port}.conf`)], {}, true);
  await waitForPort(port);
  return { port, child };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mode = process.argv[2] ?? "ceiling";
  const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
  const seconds = env("BENCH_SECONDS", 30);
  const results: Record<string, FullPathResult> = {};
  if (mode === "ceiling") {
    // Steps of polls/s: METERS at INTERVAL_MS, then STEPS more doublings of the rate (shorter interval).
    const meters = env("METERS", 2000);
    for (const interval of (process.env.INTERVALS ?? "2000,1000").split(",").map(Number)) {
      results[`${meters}@${interval}ms`] = await runFullPath({ meters, intervalMs: interval, seconds });
    }
  } else if (mode === "latency") {
    const delay = String(env("DELAY_MS", 150));
    const meters = env("METERS", 2000);
    const intervalMs = env("INTERVAL_MS", 15_000);
    results.withList = await runFullPath({ meters, intervalMs, seconds, simArgs: ["--delay-ms", delay] });
    results.withoutList = await runFullPath({
      meters,
      intervalMs,
      seconds,
      simArgs: ["--delay-ms", delay, "--no-multiple-references"],
    });
  } else if (mode === "drain") {
    results.drain = await runFullPath({
      meters: env("METERS", 2000),
      intervalMs: env("INTERVAL_MS", 10_000),
      seconds: Math.min(seconds, 15),
      outageSeconds: env("OUTAGE_S", 60),
    });
  }
  console.log(JSON.stringify({ mode, results, load: machineLoad() }, null, 2));
  process.exit(0);
}
