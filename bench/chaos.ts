// `make chaos`: the real bridge against 100 simulated meters (10 % faulty) while the broker is restarted, the bridge
// is SIGKILLed and SIGTERMed, and the outbox's disk fills up (a small tmpfs filled to the last byte). A real
// Mosquitto subscriber with a persistent session counts every reading by meter and ts. Verdict:
//   lost = readings seen stored in the outbox (snapshots of the SQLite file) that never reached the subscriber,
//          plus holes in a healthy meter's poll grid that the bridge itself did not report (failed/skipped polls);
//   duplicates = copies beyond the first, each explained by the event that caused the re-send.
// Results and method: RELIABILITY.md. Not part of `make test` (needs a few minutes, root for the tmpfs).
// Run: make build && node --import tsx bench/chaos.ts
//   env: CHAOS_METERS (100), CHAOS_FAULTY_PERCENT (10), CHAOS_INTERVAL_MS (1000), CHAOS_SECONDS (200),
//        CHAOS_EVENT_EVERY_S (20), CHAOS_DISK_MB (64), CHAOS_FULL_DISK_S (30), CHAOS_BROKER_SIGNAL (SIGTERM; SIGKILL also loses what
//        Mosquitto had not saved yet, which is the broker's loss, not the bridge's), CHAOS_OUT (JSON summary file)

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import mqtt from "mqtt";

const METERS = Number(process.env.CHAOS_METERS ?? 100);
const FAULTY = Math.round((METERS * Number(process.env.CHAOS_FAULTY_PERCENT ?? 10)) / 100);
const HEALTHY = METERS - FAULTY;
const INTERVAL_MS = Number(process.env.CHAOS_INTERVAL_MS ?? 1000);
const SECONDS = Number(process.env.CHAOS_SECONDS ?? 200);
const EVENT_EVERY_MS = Number(process.env.CHAOS_EVENT_EVERY_S ?? 20) * 1000;
const DISK_MB = Number(process.env.CHAOS_DISK_MB ?? 64);
/** Seconds the broker stays away while the disk is full: the outbox must outgrow the WAL's own slack (~4 MiB). */
const FULL_DISK_S = Number(process.env.CHAOS_FULL_DISK_S ?? 30);
const BROKER_SIGNAL = (process.env.CHAOS_BROKER_SIGNAL ?? "SIGTERM") as NodeJS.Signals;
const CLI = new URL("../bridge/bin/dlms-bridge.js", import.meta.url).pathname;
const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto"].find(existsSync) ?? "mosquitto";

const dir = mkdtempSync(join(tmpdir(), "dlms-chaos-"));
const children = new Set<ChildProcess>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const at = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;
const say = (line: string) => console.error(`[chaos ${at()}] ${line}`);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, logFile?: string): ChildProcess {
  const out = logFile ? openSync(logFile, "a") : "ignore";
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", out, out] });
  if (typeof out === "number") closeSync(out);
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The full-disk file system

interface Disk {
  dir: string;
  fill(): void;
  free(): void;
  unmount(): void;
}

function mountDisk(): Disk | string {
  const mnt = join(dir, "disk");
  mkdirSync(mnt);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${DISK_MB}m`, "tmpfs", mnt], { stdio: "pipe" });
  } catch (error) {
    return `cannot mount a ${DISK_MB} MiB tmpfs (needs root with CAP_SYS_ADMIN): ${String((error as { stderr?: Buffer }).stderr ?? error).trim()}`;
  }
  const filler = join(mnt, "filler");
  return {
    dir: mnt,
    fill() {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(64 * 1024);
      try {
        for (;;) writeSync(fd, chunk);
      } catch {
        // ENOSPC: full; top up the last bytes with small writes
        try {
          for (;;) writeSync(fd, chunk, 0, 512);
        } catch {}
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    unmount() {
      try {
        execFileSync("umount", ["-l", mnt], { stdio: "pipe" });
      } catch {}
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Broker, simulators, bridge

async function main() {
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const persistence = join(dir, "mosquitto");
  mkdirSync(persistence);
  writeFileSync(
    join(dir, "mosquitto.conf"),
    [
      `listener ${mqttPort} 127.0.0.1`,
      "allow_anonymous true",
      "persistence true",
      `persistence_location ${persistence}/`,
      "autosave_interval 5",
      "max_queued_messages 0",
      "max_inflight_messages 0",
      "",
    ].join("\n"),
  );
  execFileSync("chmod", ["-R", "a+rwX", dir]); // mosquitto drops to its own user when started as root
  let broker = start(MOSQUITTO, ["-c", join(dir, "mosquitto.conf")], {}, join(dir, "mosquitto.log"));
  const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;

  // Simulators: the healthy meters on one port; the faulty ones split over three fault kinds.
  const faults: Array<{ kind: string; args: string[]; count: number }> = [
    { kind: "corrupt FCS every 5th frame", args: ["--corrupt-fcs-every", "5"], count: Math.ceil(FAULTY * 0.4) },
    { kind: "drops mid-frame after 3 answers", args: ["--drop-mid-frame", "--drop-after", "3"], count: 0 },
    { kind: "answers every 4th request", args: ["--answer-every", "4"], count: 0 },
  ];
  faults[1]!.count = Math.ceil((FAULTY - faults[0]!.count) / 2);
  faults[2]!.count = FAULTY - faults[0]!.count - faults[1]!.count;
  const meterUrls: Array<{ id: string; url: string; fault?: string }> = [];
  const simPort = await freePort();
  start("node", [CLI, "sim", "--port", String(simPort), "--count", String(HEALTHY), "--shared-port", "--log-level", "error"]);
  for (let i = 0; i < HEALTHY; i++) {
    meterUrls.push({ id: `h${String(i).padStart(3, "0")}`, url: `hdlc://127.0.0.1:${simPort}?physical=${16 + i}` });
  }
  for (const [k, fault] of faults.entries()) {
    if (fault.count === 0) continue;
    const port = await freePort();
    start("node", [CLI, "sim", "--port", String(port), "--count", String(fault.count), "--shared-port", "--log-level", "error", "--seed", String(1000 * (k + 1)), ...fault.args]);
    for (let i = 0; i < fault.count; i++) {
      meterUrls.push({ id: `f${k}${String(i).padStart(2, "0")}`, url: `hdlc://127.0.0.1:${port}?physical=${16 + i}`, fault: fault.kind });
    }
  }

  const mounted = mountDisk();
  const disk = typeof mounted === "string" ? undefined : mounted;
  if (typeof mounted === "string") say(`skipped: full-disk events (${mounted}); the outbox lives in ${dir}`);
  const dbPath = join(disk?.dir ?? dir, "bridge.db");
  const bridgeEnv: NodeJS.ProcessEnv = {
    MQTT_URL: brokerUrl,
    MQTT_CLIENT_ID: "dlms-bridge-chaos",
    HTTP_PORT: String(httpPort),
    HTTP_HOST: "127.0.0.1",
    DB_PATH: dbPath,
    LOG_LEVEL: "info",
  };
  for (const m of meterUrls) bridgeEnv[`METER_${m.id.toUpperCase()}`] = `${m.url}&interval=${INTERVAL_MS}ms&timeout=2s`;
  writeFileSync(join(dir, "none.env"), "");
  const bridgeLog = join(dir, "bridge.log");

  // Bridge lifetimes: [startedAt, stoppedAt] (for the grid analysis) and what each stop said.
  const lifetimes: Array<{
    start: number;
    /** When the stop signal was sent (polling may end then) and when the process had exited. */
    stopRequested?: number;
    stop?: number;
    how?: string;
    exit?: string;
    stopReport?: unknown;
    /** Readings (ok + partial polls) per meter the bridge had counted at its last scrape before the stop. */
    counted?: Map<string, number>;
  }> = [];
  let bridge: ChildProcess;
  const startBridge = () => {
    bridge = start("node", [CLI, "run", "--env", join(dir, "none.env")], bridgeEnv, bridgeLog);
    lifetimes.push({ start: Date.now() });
  };
  const metrics = async (): Promise<string> => {
    try {
      return await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    } catch {
      return "";
    }
  };
  const metric = (text: string, name: string, labels = ""): number => {
    let sum = 0;
    for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, "gm"))) {
      if (labels && !(m[1] ?? "").includes(labels)) continue;
      sum += Number(m[2]);
    }
    return sum;
  };
  // Polls the bridge itself reported as failed or skipped, per lifetime (metrics reset at each start).
  const reportedGaps = { failedPolls: 0, skippedSlots: 0 };
  const bridgeCounters = async () => {
    const text = await metrics();
    let failed = 0;
    for (const m of text.matchAll(/^dlms_bridge_meter_reads_total\{meter="(h\d+)",result="(error|timeout)"\} (\S+)$/gm)) failed += Number(m[3]);
    let skipped = 0;
    try {
      const api = (await (await fetch(`http://127.0.0.1:${httpPort}/api/meters`)).json()) as Array<{ id: string; skippedSlots: number }>;
      skipped = api.filter((m) => m.id.startsWith("h")).reduce((n, m) => n + m.skippedSlots, 0);
    } catch {}
    return { failed, skipped };
  };
  const stopBridge = async (signal: NodeJS.Signals, how: string) => {
    const counters = await bridgeCounters();
    const counted = new Map<string, number>();
    for (const m of (await metrics()).matchAll(/^dlms_bridge_meter_reads_total\{meter="([^"]+)",result="(ok|partial)"\} (\S+)$/gm)) {
      counted.set(m[1]!, (counted.get(m[1]!) ?? 0) + Number(m[3]));
    }
    lifetimes.at(-1)!.counted = counted;
    // What was counted at the scrape is committed within the writer's 50 ms batch window: only readings taken
    // after this point may die with a SIGKILL before reaching the disk (they are not in `counted`).
    await sleep(250);
    reportedGaps.failedPolls += counters.failed;
    reportedGaps.skippedSlots += counters.skipped;
    const logBefore = readFileSync(bridgeLog, "utf8").length;
    lifetimes.at(-1)!.stopRequested = Date.now();
    bridge.kill(signal);
    const { code, signal: sig } = await exited(bridge);
    const life = lifetimes.at(-1)!;
    life.stop = Date.now();
    life.how = how;
    life.exit = sig ? `signal ${sig}` : `code ${code}`;
    const tail = readFileSync(bridgeLog, "utf8").slice(logBefore);
    const stopped = tail.split("\n").find((l) => l.includes('"msg":"bridge stopped"'));
    if (stopped) {
      const { lost, ackedUndeleted, pending, directlyPublished } = JSON.parse(stopped) as Record<string, number>;
      life.stopReport = { lost, ackedUndeleted, pending, directlyPublished };
    }
    say(`bridge stopped (${how}): ${life.exit}${stopped ? ` ${JSON.stringify(life.stopReport)}` : ""}`);
  };

  // ---------------------------------------------------------------------------------------------------------------
  // The subscriber (persistent session, QoS 1) and the outbox snapshots

  const copies = new Map<string, number[]>(); // "meter ts" -> arrival times
  const sub = mqtt.connect(brokerUrl, { clientId: "chaos-subscriber", clean: false, reconnectPeriod: 250, protocolVersion: 4 });
  sub.on("connect", (ack) => {
    if (!ack.sessionPresent) sub.subscribe("dlms/+/telemetry", { qos: 1 });
  });
  sub.on("error", () => undefined);
  sub.on("message", (_topic, payload) => {
    const { meter, ts } = JSON.parse(payload.toString()) as { meter: string; ts: number };
    const key = `${meter} ${ts}`;
    const list = copies.get(key);
    if (list) list.push(Date.now());
    else copies.set(key, [Date.now()]);
  });
  await until("the subscriber", () => sub.connected, 15_000);

  const stored = new Set<string>(); // "meter ts" of telemetry rows seen in the outbox file
  let snapshotDb: Database.Database | undefined;
  let lastId = 0;
  const snapshot = () => {
    try {
      snapshotDb ??= new Database(dbPath, { readonly: true, fileMustExist: true });
      const rows = snapshotDb.prepare("SELECT id, topic, payload FROM outbox WHERE id > ? ORDER BY id").all(lastId) as Array<{ id: number; topic: string; payload: string }>;
      for (const row of rows) {
        lastId = row.id;
        if (!row.topic.endsWith("/telemetry")) continue;
        const { meter, ts } = JSON.parse(row.payload) as { meter: string; ts: number };
        stored.add(`${meter} ${ts}`);
      }
    } catch {
      // the file is being created, or the disk is full while opening: next time
    }
  };
  const snapshots = setInterval(snapshot, 100);

  // ---------------------------------------------------------------------------------------------------------------
  // Chaos

  const events: Array<{ at: number; kind: string; detail?: string }> = [];
  const brokerRestarts: number[] = [];
  startBridge();
  await until("the bridge's /metrics", async () => (await metrics()) !== "", 30_000);
  say(`${METERS} meters (${FAULTY} faulty: ${faults.map((f) => `${f.count} ${f.kind}`).join(", ")}), interval ${INTERVAL_MS} ms`);
  await sleep(Math.min(15_000, EVENT_EVERY_MS));

  const kinds = ["broker-restart", "bridge-sigkill", ...(disk ? ["disk-full", "disk-full-sigterm"] : [])];
  const end = Date.now() + SECONDS * 1000;
  for (let n = 0; Date.now() < end; n++) {
    const kind = kinds[n % kinds.length]!;
    const began = Date.now();
    events.push({ at: began, kind });
    say(`event ${n + 1}: ${kind}`);
    if (kind === "broker-restart") {
      broker.kill(BROKER_SIGNAL);
      await exited(broker);
      await sleep(5000);
      broker = start(MOSQUITTO, ["-c", join(dir, "mosquitto.conf")], {}, join(dir, "mosquitto.log"));
      brokerRestarts.push(Date.now());
    } else if (kind === "bridge-sigkill") {
      await stopBridge("SIGKILL", "SIGKILL");
      await sleep(2000);
      startBridge();
    } else if (kind === "disk-full") {
      // A full disk alone changes nothing while the outbox drains at once (the WAL reuses its own space); with the
      // broker away too the outbox must grow: commits fail, readings wait in memory, acked deletes fail after.
      disk!.fill();
      broker.kill(BROKER_SIGNAL);
      await exited(broker);
      await sleep(FULL_DISK_S * 1000);
      broker = start(MOSQUITTO, ["-c", join(dir, "mosquitto.conf")], {}, join(dir, "mosquitto.log"));
      brokerRestarts.push(Date.now());
      await sleep(4000);
      const text = await metrics();
      events.at(-1)!.detail = `after ${FULL_DISK_S + 4} s full (${FULL_DISK_S} s without broker): writable ${metric(text, "dlms_bridge_outbox_writable")}, memory queue ${metric(text, "dlms_bridge_outbox_memory_queue")}, acked undeleted ${metric(text, "dlms_bridge_outbox_acked_undeleted")}, disk_full write errors ${metric(text, "dlms_bridge_outbox_write_errors_total", 'reason="disk_full"')}`;
      disk!.free();
    } else if (kind === "disk-full-sigterm") {
      disk!.fill();
      broker.kill(BROKER_SIGNAL);
      await exited(broker);
      await sleep(FULL_DISK_S * 1000);
      broker = start(MOSQUITTO, ["-c", join(dir, "mosquitto.conf")], {}, join(dir, "mosquitto.log"));
      brokerRestarts.push(Date.now());
      await sleep(2000);
      const text = await metrics();
      events.at(-1)!.detail = `before SIGTERM: writable ${metric(text, "dlms_bridge_outbox_writable")}, memory queue ${metric(text, "dlms_bridge_outbox_memory_queue")}`;
      await stopBridge("SIGTERM", "SIGTERM on a full disk");
      disk!.free();
      await sleep(1000);
      startBridge();
    }
    const rest = began + EVENT_EVERY_MS - Date.now();
    if (rest > 0) await sleep(rest);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Drain, stop cleanly, count

  say("chaos over: waiting for the outbox to drain");
  await until(
    "the outbox to drain",
    async () => {
      const text = await metrics();
      return (
        text !== "" &&
        metric(text, "dlms_bridge_outbox_pending") === 0 &&
        metric(text, "dlms_bridge_outbox_memory_queue") === 0 &&
        metric(text, "dlms_bridge_outbox_acked_undeleted") === 0 &&
        metric(text, "dlms_bridge_mqtt_connected") === 1
      );
    },
    120_000,
  );
  await stopBridge("SIGTERM", "final SIGTERM");
  await sleep(3000); // the last PUBACKed messages reach the subscriber
  clearInterval(snapshots);
  snapshot();
  sub.end(true);

  // Lost: stored in the outbox, never received.
  const lostStored = [...stored].filter((key) => !copies.has(key));
  // Lost: per bridge lifetime and meter, readings the bridge counted minus those received with a ts in the lifetime.
  const tsByMeter = new Map<string, number[]>();
  for (const key of copies.keys()) {
    const [meter, ts] = key.split(" ");
    const list = tsByMeter.get(meter!) ?? [];
    list.push(Number(ts));
    tsByMeter.set(meter!, list);
  }
  let countedTotal = 0;
  let countedMissing = 0;
  const countedMissingExamples: string[] = [];
  for (const [i, life] of lifetimes.entries()) {
    for (const [meter, n] of life.counted ?? []) {
      const got = (tsByMeter.get(meter) ?? []).filter((ts) => ts >= life.start && ts <= (life.stop ?? Number.POSITIVE_INFINITY)).length;
      countedTotal += n;
      if (got < n) {
        countedMissing += n - got;
        if (countedMissingExamples.length < 10) countedMissingExamples.push(`lifetime ${i + 1} ${meter}: counted ${n}, received ${got}`);
      }
    }
  }

  // Grid holes of healthy meters while a bridge was running, minus the polls the bridge reported failed/skipped.
  const byMeter = new Map<string, number[]>();
  for (const key of copies.keys()) {
    const [meter, ts] = key.split(" ");
    if (!meter!.startsWith("h")) continue;
    const list = byMeter.get(meter!) ?? [];
    list.push(Number(ts));
    byMeter.set(meter!, list);
  }
  let holesWhileRunning = 0;
  let holesBridgeDown = 0;
  const holeExamples: string[] = [];
  for (const [meter, list] of byMeter) {
    list.sort((a, b) => a - b);
    const first = list[0]!;
    const slots = new Set(list.map((ts) => Math.round((ts - first) / INTERVAL_MS)));
    const lastSlot = Math.round((list.at(-1)! - first) / INTERVAL_MS);
    for (let k = 0; k <= lastSlot; k++) {
      if (slots.has(k)) continue;
      const slotAt = first + k * INTERVAL_MS;
      // "Down" for this meter: from the stop signal (minus the poll in flight) to its first reading from the next
      // bridge (which has to start, connect and associate with 100 meters, 32 at a time, first).
      const down = lifetimes.some((l, i) => {
        if (l.stopRequested === undefined) return false;
        const next = lifetimes[i + 1];
        const backAt = next ? (list.find((ts) => ts >= next.start) ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY;
        return slotAt >= l.stopRequested - INTERVAL_MS && slotAt < backAt;
      });
      if (down) holesBridgeDown++;
      else {
        holesWhileRunning++;
        if (holeExamples.length < 10) holeExamples.push(`${meter} @ ${new Date(slotAt).toISOString()}`);
      }
    }
  }

  // Duplicates, explained by what happened just before the second copy arrived.
  const restarts = lifetimes.slice(1).map((l) => l.start);
  const dupClasses = { afterBridgeRestart: 0, afterBrokerRestart: 0, unexplained: 0 };
  let duplicates = 0;
  for (const times of copies.values()) {
    for (const t of times.slice(1)) {
      duplicates++;
      if (restarts.some((r) => t >= r && t <= r + 30_000)) dupClasses.afterBridgeRestart++;
      else if (brokerRestarts.some((r) => t >= r && t <= r + 30_000)) dupClasses.afterBrokerRestart++;
      else dupClasses.unexplained++;
    }
  }
  const perFault = Object.fromEntries(
    faults.map((f, k) => {
      const ids = meterUrls.filter((m) => m.id.startsWith(`f${k}`)).map((m) => m.id);
      const n = [...copies.keys()].filter((key) => ids.includes(key.split(" ")[0]!)).length;
      return [f.kind, { meters: ids.length, readingsDelivered: n }];
    }),
  );
  const healthyDelivered = [...copies.keys()].filter((k) => k.startsWith("h")).length;
  const summary = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "?"}, Node ${process.version}`,
    meters: METERS,
    faulty: FAULTY,
    intervalMs: INTERVAL_MS,
    seconds: Math.round((Date.now() - t0) / 1000),
    brokerSignal: BROKER_SIGNAL,
    fullDisk: disk ? `${DISK_MB} MiB tmpfs` : `skipped: ${mounted as string}`,
    events: events.map((e) => `${((e.at - t0) / 1000).toFixed(0)}s ${e.kind}${e.detail ? ` (${e.detail})` : ""}`),
    bridgeLifetimes: lifetimes.map((l) => ({ how: l.how, exit: l.exit, stopReport: l.stopReport })),
    readingsDelivered: copies.size,
    healthyReadingsDelivered: healthyDelivered,
    healthyPerMeterPerMinute: Math.round((healthyDelivered / HEALTHY / ((Date.now() - t0) / 60_000)) * 10) / 10,
    faultyMeters: perFault,
    storedRowsSeen: stored.size,
    lostStored: lostStored.length,
    lostStoredExamples: lostStored.slice(0, 10),
    readingsCountedByBridge: countedTotal,
    countedButNotReceived: countedMissing,
    countedButNotReceivedExamples: countedMissingExamples,
    // Informational: slots of a healthy meter's grid without a reading. Besides restarts, a poll started late
    // (loaded machine) lands in the next slot; the lost/not-lost verdict is the two counts above.
    healthyGridHoles: {
      whileBridgeRunning: holesWhileRunning,
      reportedByBridgeAsFailedOrSkipped: reportedGaps.failedPolls + reportedGaps.skippedSlots,
      whileBridgeDown: holesBridgeDown,
      examples: holeExamples,
    },
    duplicates,
    duplicatesExplained: dupClasses,
    verdict: lostStored.length === 0 && countedMissing === 0 ? "0 lost" : "LOSS",
  };
  console.log(JSON.stringify(summary, null, 2));
  if (process.env.CHAOS_OUT) writeFileSync(process.env.CHAOS_OUT, `${JSON.stringify(summary, null, 2)}\n`);
  if (summary.verdict !== "0 lost") process.exitCode = 1;
  snapshotDb?.close();
  disk?.unmount();
}

const logCopy = process.env.CHAOS_KEEP_LOGS;
main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const c of children) c.kill("SIGKILL");
    if (logCopy) {
      const out = createWriteStream(logCopy);
      out.end(existsSync(join(dir, "bridge.log")) ? readFileSync(join(dir, "bridge.log")) : "");
    }
    setTimeout(() => {
      try {
        execFileSync("umount", ["-l", join(dir, "disk")], { stdio: "pipe" });
      } catch {}
      rmSync(dir, { recursive: true, force: true });
      process.exit();
    }, 500);
  });
