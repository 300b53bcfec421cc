// E2E: the real `dlms-bridge run` with its DB_PATH on a really full file system (a small tmpfs, filled to the last
// byte). Skipped, saying why, where a tmpfs cannot be mounted; the same logic is covered with SQLite's page limit
// in test/outbox/full-disk.test.ts. Counts every reading by meter and ts at a real Mosquitto subscriber.
import { statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import { mountSmallFs, type SmallFs } from "../helpers/small-fs.js";
import { startTcpProxy, type TcpProxy } from "../publish/tcp-proxy.js";
import {
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  metricValue,
  readingsCounted,
  record,
  scrape,
  sleep,
  startBridge,
  waitUntil,
} from "./harness.js";

const METERS = ["alpha", "beta"] as const;
const INTERVAL_MS = 500;

function probeMount(): string | undefined {
  const fs = mountSmallFs(64);
  if ("skipped" in fs) return fs.skipped;
  fs.unmount();
  return undefined;
}

async function readyz(port: number): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, text: await response.text() };
}

function walBytes(dbPath: string): number {
  try {
    return statSync(`${dbPath}-wal`).size;
  } catch {
    return 0;
  }
}

const cannotMount = probeMount();

describe("dlms-bridge run: the outbox's disk is full", () => {
  let broker: MosquittoHandle | undefined;
  let proxy: TcpProxy | undefined;
  let sim: RunningSimulator | undefined;
  let fs: SmallFs | undefined;

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await proxy?.close();
    await sim?.close();
    await broker?.stop();
    fs?.unmount();
  });

  if (cannotMount !== undefined) {
    it.skip(`skipped: ${cannotMount}`, () => {});
    return;
  }

  it("waits in memory, says 'disk full at DB_PATH' once, loses nothing, counts re-sent rows, exits 3 when it must drop", async () => {
    broker = await startMosquitto();
    proxy = await startTcpProxy(broker.port);
    sim = await startSimulator({ count: METERS.length, port: 0, seed: 81 });
    const recorder = await record(broker.url);
    const mounted = mountSmallFs(2048);
    if ("skipped" in mounted) throw new Error(mounted.skipped);
    fs = mounted;
    const dbPath = join(fs.dir, "bridge.db");
    const env = bridgeEnv({
      mqttUrl: proxy.url,
      dbPath,
      meters: Object.fromEntries(
        METERS.map((id, i) => [id, `hdlc://127.0.0.1:${sim!.ports[i]}?interval=${INTERVAL_MS}ms&timeout=2s`]),
      ),
    });
    const received = (meter: string) => recorder.telemetry(meter);

    // --- Bridge A: readings pile up in the outbox (broker away), then the disk fills.
    const a = await startBridge(env);
    const portA = await a.httpPort();
    await waitUntil(() => METERS.every((id) => received(id).length >= 2), "2 readings of each meter");
    proxy.block();
    await waitUntil(
      async () => metricValue(await scrape(portA), "dlms_bridge_outbox_pending") >= 6,
      "6 readings stored while the broker is away",
    );
    fs.fill();
    await waitUntil(
      async () => metricValue(await scrape(portA), "dlms_bridge_outbox_writable") === 0,
      "the bridge to find the disk full",
    );
    const full = await readyz(portA);
    expect(full.status).toBe(503);
    expect(full.text).toContain(`outbox cannot write: disk full at ${dbPath}`);

    // The broker comes back: stored rows go out and are acknowledged, but the full disk refuses their DELETE.
    proxy.unblock();
    await waitUntil(
      async () => {
        const s = await scrape(portA);
        return (
          metricValue(s, "dlms_bridge_outbox_pending") === 0 && metricValue(s, "dlms_bridge_outbox_acked_undeleted") > 0
        );
      },
      "stored rows published, acknowledged, and not deletable",
      20_000,
    );
    await sleep(2000); // more failed commits and deletes: still one line
    const whileFull = await scrape(portA);
    expect(metricValue(whileFull, "dlms_bridge_outbox_memory_queue")).toBeGreaterThan(0);
    expect(metricValue(whileFull, "dlms_bridge_outbox_write_errors_total", { reason: "disk_full" })).toBeGreaterThan(3);
    const problemLines = a.logs().filter((l) => String(l.msg).startsWith("outbox cannot write"));
    expect(problemLines.map((l) => l.msg)).toEqual([`outbox cannot write: disk full at ${dbPath}`]);

    // SIGTERM with the disk still full but the broker there: the unstored readings go to the broker directly.
    const lastScrapeA = await scrape(portA);
    const countedA = METERS.map((id) => readingsCounted(lastScrapeA, id));
    a.child.kill("SIGTERM");
    expect(await a.exited).toEqual({ code: 0, signal: null });
    const aStopped = a.logs().find((l) => l.msg === "bridge stopped") as Record<string, number>;
    expect(aStopped.lost).toBe(0);
    expect(aStopped.directlyPublished).toBeGreaterThan(0);
    const ackedUndeleted = aStopped.ackedUndeleted!;
    expect(ackedUndeleted).toBeGreaterThan(0);
    expect(
      a.logs().some((l) => String(l.msg).startsWith(`${ackedUndeleted} acknowledged readings could not be deleted`)),
    ).toBe(true);
    const aStoppedAt = Date.now();

    // --- Bridge B starts on the still-full disk: says so in words, runs, re-sends exactly the undeleted rows once.
    const b = await startBridge(env);
    const portB = await b.httpPort();
    const bStartedAt = Date.now();
    await waitUntil(
      () => b.logs().some((l) => l.msg === `outbox cannot write: disk full at ${dbPath}`),
      "the start-up on a full disk to be said in words",
    );
    expect(b.stdout + b.stderr).not.toMatch(/cannot rollback/);
    expect((await readyz(portB)).text).toContain(`disk full at ${dbPath}`);
    await waitUntil(async () => {
      const samples = await scrape(portB);
      return METERS.every((id) => readingsCounted(samples, id) >= 3);
    }, "B's readings taken (and waiting in memory) while its disk is full");
    fs.free();
    const freedAt = Date.now();
    await waitUntil(async () => (await readyz(portB)).status === 200, "ready again once space is back", 20_000);
    await waitUntil(
      async () => {
        const s = await scrape(portB);
        return (
          metricValue(s, "dlms_bridge_outbox_memory_queue") === 0 &&
          metricValue(s, "dlms_bridge_outbox_acked_undeleted") === 0 &&
          b.logs().some((l) => l.msg === "outbox drained: database file compacted and WAL truncated")
        );
      },
      "memory queue stored, undeleted rows deleted, outbox drained and compacted",
      20_000,
    );
    // The WAL the full disk left behind is given back (then grows again by normal use, up to its 4 MiB limit).
    const compacted = b.logs().find((l) => l.msg === "outbox drained: database file compacted and WAL truncated")!;
    const [walBefore, walAfter] = compacted.walBytes as [number, number];
    expect(walAfter).toBe(0);
    expect(walBefore).toBeGreaterThan(0);
    expect(walBytes(dbPath)).toBeLessThan(walBefore);

    // Nothing lost while the disk was full, in A or in B: every reading the bridge counted arrived (by meter and
    // ts, duplicates removed); the only duplicates are the rows A could not delete.
    for (const [i, id] of METERS.entries()) {
      const inA = received(id).filter((r) => r.ts <= aStoppedAt);
      expect(inA.length, `readings of ${id} from bridge A`).toBeGreaterThanOrEqual(countedA[i]!);
    }
    // Readings keep coming: every reading B had counted at this scrape must arrive (later ones may be in transit).
    const scrapeB = await scrape(portB);
    await waitUntil(
      () => METERS.every((id) => received(id).filter((r) => r.ts >= bStartedAt).length >= readingsCounted(scrapeB, id)),
      "every reading bridge B counted to arrive",
      30_000,
    );
    for (const id of METERS) {
      // Readings B took while its disk was full waited in memory and arrived.
      const inB = received(id).filter((r) => r.ts >= bStartedAt && r.ts < freedAt);
      expect(inB.length, `readings of ${id} taken while B's disk was full`).toBeGreaterThanOrEqual(2);
    }
    const duplicates = METERS.reduce((n, id) => n + recorder.rawTelemetry(id).length - received(id).length, 0);
    expect(duplicates, "copies received twice = rows acked but undeletable at A's stop").toBe(ackedUndeleted);

    // --- The disk fills again and the broker is away: a SIGTERM must drop what waits in memory: exit 3, counted.
    proxy.block();
    fs.fill();
    // A full file system is not full to SQLite at once: a checkpoint into free pages lets the WAL restart in
    // space it already holds, and a retry then stores the queue (measured: 2, 3, 4, 0, 0, 1, 2, ...). Wait until the
    // queue has grown through several retries (1 s apart), then take whatever space came back since.
    await waitUntil(
      async () => metricValue(await scrape(portB), "dlms_bridge_outbox_memory_queue") >= 8,
      "readings waiting in memory with nowhere to go, through several refused retries",
    );
    fs.fill();
    const waiting = metricValue(await scrape(portB), "dlms_bridge_outbox_memory_queue");
    b.child.kill("SIGTERM");
    const exited = await b.exited;
    const tail = () =>
      b
        .logs()
        .slice(-20)
        .map((l) => `${l.level} ${l.msg}`)
        .join("\n");
    expect(exited, `exit after SIGTERM; the bridge's last log lines:\n${tail()}`).toEqual({ code: 3, signal: null });
    const lostLine = b.logs().find((l) => String(l.msg).startsWith("stopped with"));
    expect(lostLine?.msg).toMatch(/^stopped with \d+ readings lost: never stored \(outbox cannot write: disk full at /);
    expect(lostLine?.lost as number).toBeGreaterThanOrEqual(waiting);
    const perReading = b.logs().filter((l) => String(l.msg).includes("it is lost"));
    expect(perReading).toHaveLength(0); // one line with the count, not one per reading
  }, 120_000);
});
