// A full disk under the outbox (issue 8 §2). Two ways to fill it: SQLite's own limit (PRAGMA max_page_count makes
// every write that needs a new page fail with SQLITE_FULL, exactly as a full disk does; runs everywhere) and a real
// full file system (a small tmpfs; skipped, saying why, where it cannot be mounted).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseMeterUrl } from "../../src/config/index.js";
import { createMetrics } from "../../src/metrics/registry.js";
import type { Reading } from "../../src/model.js";
import { OutboxMaintenance } from "../../src/outbox/maintenance.js";
import { Outbox } from "../../src/outbox/outbox.js";
import { OutboxWriteHealth, reportWriterDrops } from "../../src/outbox/write-health.js";
import { OutboxWriter } from "../../src/outbox/writer.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { saveMeterConfigs } from "../../src/store/meters.js";
import { describeWriteError } from "../../src/store/write-errors.js";
import { mountSmallFs, type SmallFs } from "../helpers/small-fs.js";
import { tempDbPath } from "../store/temp-db.js";

/** Readings are numbered by `seq` (which may be negative); ts = BASE + seq. */
const BASE = 1_700_000_000_000;

function wideReading(meter: string, seq: number): Reading {
  const values = Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`register_${k}`, seq + k / 10]));
  return { meter, ts: BASE + seq, values };
}

function seqOf(row: { payload: string }): number {
  return (JSON.parse(row.payload) as { ts: number }).ts - BASE;
}

/** No page may be added, and the free room of the existing pages is taken by filler rows: the next write fails. */
function fillDisk(db: Db): void {
  const pages = db.sqlite.pragma("page_count", { simple: true }) as number;
  db.sqlite.pragma(`max_page_count = ${pages + 4}`);
  db.sqlite.exec("CREATE TABLE IF NOT EXISTS filler (b BLOB)");
  for (const size of [4000, 1000, 100, 10]) {
    try {
      for (;;) db.sqlite.prepare("INSERT INTO filler VALUES (zeroblob(?))").run(size);
    } catch (error) {
      if ((error as { code?: string }).code !== "SQLITE_FULL") throw error;
    }
  }
}

function roomAgain(db: Db): void {
  db.sqlite.pragma("max_page_count = 1073741823");
}

function metricLine(text: string, name: string): number {
  const match = new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

describe("outbox on a full disk (SQLite page limit)", () => {
  let temp: ReturnType<typeof tempDbPath>;
  let db: Db;
  beforeEach(() => {
    temp = tempDbPath();
    db = openDatabase(temp.path);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await db.close();
    temp.cleanup();
  });

  it("keeps readings in memory, says 'disk full at <DB_PATH>' once, counts every failure, recovers in order", async () => {
    vi.useFakeTimers();
    const metrics = createMetrics({ defaultMetrics: false });
    const lines: Array<{ level: string; msg: string; details: object }> = [];
    const log = {
      error: (details: object, msg: string) => lines.push({ level: "error", msg, details }),
      info: (details: object, msg: string) => lines.push({ level: "info", msg, details }),
    };
    const outbox = new Outbox(db, { maxRows: 100_000 });
    let writer: OutboxWriter | undefined;
    const health = new OutboxWriteHealth({ dbPath: temp.path, metrics, log, waiting: () => writer?.waiting ?? 0 });
    writer = new OutboxWriter(outbox, {
      retryMs: 1000,
      onRetry: (error) => health.failed(error),
      onCommitted: () => health.succeeded(),
    });
    metrics.observeOutbox({
      pending: () => outbox.pending(),
      oldestAgeMs: () => 0,
      waitingInMemory: () => writer.waiting,
    });
    fillDisk(db);
    // The last pages of the outbox table still have room for a few readings: they fill it first.
    const writes: Promise<void>[] = [];
    for (let i = 0; health.writable; i++) {
      writes.push(writer.write(wideReading("m1", -1000 + i)));
      await writer.flush();
    }
    const filled = outbox.pending(); // stored before the disk was full; the reading that found it full waits
    expect(lines).toHaveLength(1);

    // 2 minutes of a meter every second, the disk full all along: 120 commit attempts, one retry per second.
    for (let s = 0; s < 120; s++) {
      writes.push(writer.write(wideReading("m1", s)));
      await vi.advanceTimersByTimeAsync(1000);
    }
    const text = await metrics.registry.metrics();
    expect(metricLine(text, "dlms_bridge_outbox_writable")).toBe(0);
    expect(metricLine(text, "dlms_bridge_outbox_memory_queue")).toBe(121);
    expect(metricLine(text, 'dlms_bridge_outbox_write_errors_total{reason="disk_full"}')).toBeGreaterThanOrEqual(100);
    const errors = lines.filter((l) => l.level === "error");
    // ~120 failed commits in 2 minutes: one line at once, then one a minute while it lasts, with the count.
    expect(errors.map((l) => l.msg)).toEqual(Array(3).fill(`outbox cannot write: disk full at ${temp.path}`));
    expect(errors[1]!.details).toMatchObject({ failedWrites: 60, waitingInMemory: 61 });
    expect(health.message).toBe(`outbox cannot write: disk full at ${temp.path}`);
    expect(outbox.pending()).toBe(filled);

    roomAgain(db);
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(writes);
    expect(outbox.peek(1000).map(seqOf)).toEqual([
      ...Array.from({ length: filled + 1 }, (_, i) => -1000 + i),
      ...Array(120).keys(),
    ]);
    expect(lines.at(-1)).toMatchObject({ level: "info", msg: `outbox writes again at ${temp.path}` });
    const after = await metrics.registry.metrics();
    expect(metricLine(after, "dlms_bridge_outbox_writable")).toBe(1);
    expect(metricLine(after, "dlms_bridge_outbox_memory_queue")).toBe(0);
  });

  it("beyond the memory bound drops the oldest, counts each one and logs one line per period", async () => {
    vi.useFakeTimers();
    const metrics = createMetrics({ defaultMetrics: false });
    const errors: object[] = [];
    const drops = reportWriterDrops(
      metrics,
      { error: (details) => errors.push(details) },
      { maxWaiting: 50, problem: () => "outbox cannot write: disk full at x", logEveryMs: 10_000 },
    );
    const writer = new OutboxWriter(new Outbox(db, { maxRows: 100_000 }), {
      maxWaiting: 50,
      retryMs: 1000,
      onDropped: drops.onDropped,
    });
    fillDisk(db);
    const outcomes = Array.from({ length: 250 }, (_, i) => writer.write(wideReading("m", i)).catch(() => "dropped"));
    await writer.flush();
    for (let i = 0; i < 20; i++) await vi.advanceTimersByTimeAsync(1000);
    expect(writer.waiting).toBe(50);
    expect(metricLine(await metrics.registry.metrics(), 'dlms_bridge_outbox_dropped_total{reason="memory_full"}')).toBe(
      200,
    );
    expect(errors.length).toBeLessThanOrEqual(3);
    expect(errors[0]).toMatchObject({ maxWaiting: 50, cause: "outbox cannot write: disk full at x" });
    roomAgain(db);
    await writer.close();
    expect((await Promise.all(outcomes)).filter((o) => o === "dropped")).toHaveLength(200);
  });

  it("at close hands back what the disk still refuses (for direct delivery or counting), not a log line each", async () => {
    const writer = new OutboxWriter(new Outbox(db, { maxRows: 100_000 }), { retryMs: 3_600_000 });
    fillDisk(db);
    const writes = Array.from({ length: 608 }, (_, i) => writer.write(wideReading("m", i)).catch((e: Error) => e.name));
    await writer.flush();
    const unstored = await writer.close();
    expect(unstored).toHaveLength(608);
    expect(unstored.map(seqOf)).toEqual([...Array(608).keys()]);
    expect(new Set(await Promise.all(writes))).toEqual(new Set(["ReadingDroppedError"]));
  });

  it("start-up writes on a full disk fail with the real cause, said in words (not 'cannot rollback')", async () => {
    const meters = Array.from({ length: 200 }, (_, i) => parseMeterUrl(`meter${i}`, "hdlc://127.0.0.1:4059"));
    fillDisk(db);
    const error = await saveMeterConfigs(db, meters).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code?: string }).code).toBe("SQLITE_FULL");
    expect(describeWriteError(error, temp.path)).toBe(`disk full at ${temp.path}`);
  });
});

describe("acknowledged rows the disk refuses to delete", () => {
  let temp: ReturnType<typeof tempDbPath>;
  let db: Db;
  beforeEach(() => {
    temp = tempDbPath();
    db = openDatabase(temp.path);
  });
  afterEach(async () => {
    await db.close();
    temp.cleanup();
  });

  // A DELETE needs no new page, so the page limit cannot refuse it; a trigger refuses it instead (a real full
  // file system refuses it too: see the tmpfs test below).
  const refuseDeletes = (d: Db) =>
    d.sqlite.exec(
      "CREATE TRIGGER refuse_delete BEFORE DELETE ON outbox BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
    );
  const allowDeletes = (d: Db) => d.sqlite.exec("DROP TRIGGER refuse_delete");

  it("are never handed out again by this process, and are deleted once the disk accepts", () => {
    const outbox = new Outbox(db, { maxRows: 10_000 });
    outbox.enqueue(Array.from({ length: 100 }, (_, i) => wideReading("m", i)));
    const sent = outbox.peek(60);
    refuseDeletes(db);
    expect(() => outbox.ack(sent.map((r) => r.id))).toThrow(/disk is full/);
    expect(outbox.ackedUndeleted()).toBe(60);
    expect(outbox.pending()).toBe(40);
    // A publisher rewinding to the oldest row (reconnect) gets only the 40 never acknowledged.
    expect(outbox.peek(1000).map(seqOf)).toEqual([...Array(40).keys()].map((i) => i + 60));
    expect(() => outbox.retryDeletes()).toThrow();
    allowDeletes(db);
    expect(outbox.retryDeletes()).toBe(60);
    expect(outbox.ackedUndeleted()).toBe(0);
    expect(db.sqlite.prepare("SELECT COUNT(*) AS n FROM outbox").get()).toEqual({ n: 40 });
  });

  it("are re-sent after a restart before the delete succeeded, unchanged (same meter and ts): counted", async () => {
    const outbox = new Outbox(db, { maxRows: 10_000 });
    outbox.enqueue(Array.from({ length: 100 }, (_, i) => wideReading("m", i)));
    const first = outbox.peek(100);
    refuseDeletes(db);
    expect(() => outbox.ack(first.map((r) => r.id))).toThrow();
    const countedBeforeRestart = outbox.ackedUndeleted();
    await db.close();

    db = openDatabase(temp.path);
    const again = new Outbox(db, { maxRows: 10_000 }).peek(1000);
    // Exactly the acked-but-undeleted rows come again, byte for byte: a consumer keyed on (meter, ts) drops them.
    expect(again).toHaveLength(countedBeforeRestart);
    expect(again.map((r) => [r.id, r.payload])).toEqual(first.map((r) => [r.id, r.payload]));
  });
});

describe("giving the space back after a backlog", () => {
  let temp: ReturnType<typeof tempDbPath>;
  let db: Db;
  beforeEach(() => {
    temp = tempDbPath();
    db = openDatabase(temp.path);
  });
  afterEach(async () => {
    await db.close();
    temp.cleanup();
  });

  it("truncates the WAL to 0 and returns the free pages once the outbox drains (file sizes measured)", async () => {
    const outbox = new Outbox(db, { maxRows: 1_000_000 });
    const infos: object[] = [];
    const maintenance = new OutboxMaintenance({
      db,
      outbox,
      onWriteError: (error) => {
        throw error;
      },
      log: { info: (details) => infos.push(details) },
      backlogRows: 1000,
    });
    for (let b = 0; b < 40; b++) outbox.enqueue(Array.from({ length: 500 }, (_, i) => wideReading("m", b * 500 + i)));
    maintenance.start(); // sees the backlog
    const backlog = db.fileSizes();
    expect(backlog.db).toBeGreaterThan(10 * 1024 * 1024); // 20,000 wide readings
    expect(backlog.wal).toBeGreaterThan(0);

    for (let rows = outbox.peek(500); rows.length > 0; rows = outbox.peek(500)) outbox.ack(rows.map((r) => r.id));
    await new Promise((resolve) => setImmediate(resolve)); // compaction runs on the next turn
    const drained = db.fileSizes();
    expect(drained.wal).toBe(0);
    expect(drained.db).toBeLessThan(backlog.db / 20);
    expect(infos).toHaveLength(1);
    maintenance.stop();
  });

  it("leaves a normal (small, drained every second) outbox alone", () => {
    const outbox = new Outbox(db, { maxRows: 1_000_000 });
    const compact = vi.spyOn(db, "compact");
    const maintenance = new OutboxMaintenance({ db, outbox, onWriteError: () => undefined, log: { info: () => {} } });
    for (let i = 0; i < 50; i++) {
      outbox.enqueue([wideReading("m", i)]);
      maintenance.tick();
      outbox.ack(outbox.peek(10).map((r) => r.id));
      maintenance.tick();
    }
    expect(compact).not.toHaveBeenCalled();
  });
});

/** Whether a tmpfs can be mounted here (probed once: mounted and unmounted at once), else why not. */
function cannotMount(): string | undefined {
  const probe = mountSmallFs(64);
  if ("skipped" in probe) return probe.skipped;
  probe.unmount();
  return undefined;
}

describe("a really full file system (tmpfs)", () => {
  const why = cannotMount();
  if (why !== undefined) {
    it.skip(`skipped: ${why}`, () => {});
    return;
  }

  it("refuses inserts and acknowledged deletes; a new database says 'disk full'; recovers and shrinks after", async () => {
    // Mounted inside the test, so a filtered run (-t) never leaves a mount behind.
    const mounted = mountSmallFs(4096);
    if ("skipped" in mounted) throw new Error(mounted.skipped);
    const fs: SmallFs = mounted;
    let db: Db | undefined;
    const dir = fs.dir;
    const path = `${dir}/bridge.db`;
    try {
      db = openDatabase(path);
      const outbox = new Outbox(db, { maxRows: 1_000_000 });
      for (let b = 0; b < 4; b++) outbox.enqueue(Array.from({ length: 100 }, (_, i) => wideReading("m", b * 100 + i)));
      fs.fill();
      let insertError: unknown;
      for (let b = 0; insertError === undefined && b < 1000; b++) {
        try {
          outbox.enqueue(Array.from({ length: 100 }, (_, i) => wideReading("m", 1000 + b * 100 + i)));
        } catch (error) {
          insertError = error;
        }
      }
      expect(describeWriteError(insertError, path)).toBe(`disk full at ${path}`);
      const pendingAtFull = outbox.pending();

      // Acknowledge everything: the deletes fail on the full disk, the rows are kept out of circulation.
      let ackError: unknown;
      for (let rows = outbox.peek(100); rows.length > 0; rows = outbox.peek(100)) {
        try {
          outbox.ack(rows.map((r) => r.id));
        } catch (error) {
          ackError = error;
        }
      }
      expect(outbox.pending()).toBe(0);
      expect(outbox.ackedUndeleted()).toBe(pendingAtFull); // the WAL cannot grow: not one DELETE commits
      expect(describeWriteError(ackError, path)).toBe(`disk full at ${path}`);
      expect(() => openDatabase(`${dir}/another.db`)).toThrow(`cannot open database: disk full at ${dir}/another.db`);

      fs.free();
      outbox.retryDeletes();
      expect(outbox.ackedUndeleted()).toBe(0);
      const before = db.fileSizes();
      db.compact();
      const after = db.fileSizes();
      expect(after.wal).toBe(0);
      expect(after.db).toBeLessThan(before.db + before.wal);
      expect(pendingAtFull).toBeGreaterThan(0);
    } finally {
      await db?.close();
      db = undefined;
      fs.unmount();
    }
  });
});
