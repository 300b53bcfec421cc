import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMetrics } from "../../src/metrics/registry.js";
import type { Reading } from "../../src/model.js";
import { Outbox, OutboxWriter, reportDrops } from "../../src/outbox/index.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { tempDbPath } from "../store/temp-db.js";

function reading(meter: string, ts: number, voltage = 230 + ts / 1000): Reading {
  return { meter, ts, values: { voltage, active_energy: ts * 2 } };
}

describe("Outbox", () => {
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

  it("keeps readings across closing and reopening the database file", async () => {
    const readings = [reading("m1", 1000), reading("m2", 1001), reading("m1", 2000)];
    new Outbox(db, { maxRows: 100 }).enqueue(readings);
    await db.close();

    db = openDatabase(temp.path);
    const reopened = new Outbox(db, { maxRows: 100 });
    expect(reopened.pending()).toBe(3);
    const rows = reopened.peek(10);
    expect(rows.map((r) => [r.topic, JSON.parse(r.payload)])).toEqual(
      readings.map((r) => [`dlms/${r.meter}/telemetry`, { meter: r.meter, ts: r.ts, values: r.values }]),
    );
  });

  it("writes a batch of 1000 readings as one transaction: a failure anywhere leaves nothing", () => {
    db.sqlite.exec(`CREATE TRIGGER poison BEFORE INSERT ON outbox WHEN NEW.meter = 'poison'
      BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`);
    const outbox = new Outbox(db, { maxRows: 10_000 });
    const batch = Array.from({ length: 1000 }, (_, i) => reading(i === 999 ? "poison" : "m1", i + 1));
    expect(() => outbox.enqueue(batch)).toThrow(/poisoned row/);
    expect(outbox.pending()).toBe(0);
    expect(outbox.peek(10)).toEqual([]);

    batch[999] = reading("m1", 1000);
    expect(outbox.enqueue(batch)).toBe(1000);
    expect(outbox.pending()).toBe(1000);
  });

  it("refuses a batch holding a reading that cannot be published, naming meter and key, writing nothing", () => {
    const outbox = new Outbox(db, { maxRows: 100 });
    const bad: Reading = { meter: "m7", ts: 5, values: { voltage: Number.NaN } };
    expect(() => outbox.enqueue([reading("m1", 1), bad])).toThrow(/meter 'm7'.*'voltage'/);
    expect(outbox.pending()).toBe(0);
  });

  it("peeking past the last row finds rows enqueued afterwards, also after the table emptied and on reopen", async () => {
    const outbox = new Outbox(db, { maxRows: 100 });
    outbox.enqueue([reading("m1", 1), reading("m1", 2)]);
    const first = outbox.peek(10);
    expect(first.map((r) => JSON.parse(r.payload).ts)).toEqual([1, 2]);
    const cursor = first.at(-1)!.id;
    expect(outbox.peek(10, cursor)).toEqual([]);
    outbox.ack(first.map((r) => r.id));
    expect(outbox.pending()).toBe(0);
    outbox.enqueue([reading("m1", 3)]);
    expect(outbox.peek(10, cursor).map((r) => JSON.parse(r.payload).ts)).toEqual([3]);

    await db.close();
    db = openDatabase(temp.path);
    const reopened = new Outbox(db, { maxRows: 100 });
    expect(reopened.peek(10, cursor).map((r) => JSON.parse(r.payload).ts)).toEqual([3]);
  });

  it("preserves order across meters and batches, and peeks after a cursor", () => {
    const outbox = new Outbox(db, { maxRows: 100 });
    outbox.enqueue([reading("a", 1), reading("b", 2)]);
    outbox.enqueue([reading("a", 3)]);
    outbox.enqueue([reading("b", 4), reading("a", 5)]);
    const rows = outbox.peek(100);
    expect(rows.map((r) => JSON.parse(r.payload).ts)).toEqual([1, 2, 3, 4, 5]);
    expect(outbox.peek(2, rows[1]!.id).map((r) => JSON.parse(r.payload).ts)).toEqual([3, 4]);
  });

  it("beyond maxRows drops the OLDEST rows, counts them and keeps the newest", () => {
    const onDropped = vi.fn();
    const outbox = new Outbox(db, { maxRows: 5, onDropped });
    for (let ts = 1; ts <= 4; ts++) outbox.enqueue([reading("m", ts)]);
    outbox.enqueue([reading("m", 5), reading("m", 6), reading("m", 7), reading("m", 8)]);
    expect(outbox.pending()).toBe(5);
    expect(outbox.peek(100).map((r) => JSON.parse(r.payload).ts)).toEqual([4, 5, 6, 7, 8]);
    expect(onDropped.mock.calls.flat().reduce((a, b) => a + b, 0)).toBe(3);
  });

  it("deletes acknowledged rows only, ignores unknown ids, and reports the oldest age", () => {
    let now = 10_000;
    const outbox = new Outbox(db, { maxRows: 100, now: () => now });
    outbox.enqueue([reading("m", 1), reading("m", 2)]);
    now = 15_000;
    outbox.enqueue([reading("m", 3)]);
    const [first, second, third] = outbox.peek(10);
    expect(outbox.oldestAgeMs(20_000)).toBe(10_000);
    expect(outbox.ack([first!.id, second!.id, 999_999])).toBe(2);
    expect(outbox.pending()).toBe(1);
    expect(outbox.peek(10).map((r) => r.id)).toEqual([third!.id]);
    expect(outbox.oldestAgeMs(20_000)).toBe(5_000);
    outbox.ack([third!.id]);
    expect(outbox.oldestAgeMs(20_000)).toBe(0);
  });

  it("never reuses ids after the outbox empties (the publisher's cursor relies on it)", () => {
    const outbox = new Outbox(db, { maxRows: 100 });
    outbox.enqueue([reading("m", 1), reading("m", 2)]);
    const ids = outbox.peek(10).map((r) => r.id);
    outbox.ack(ids);
    outbox.enqueue([reading("m", 3)]);
    expect(outbox.peek(10)[0]!.id).toBeGreaterThan(Math.max(...ids));
  });

  it("skips readings without values and notifies listeners after each commit", () => {
    const outbox = new Outbox(db, { maxRows: 100 });
    const listener = vi.fn();
    outbox.onEnqueued(listener);
    expect(outbox.enqueue([{ meter: "m", ts: 1, values: {} }])).toBe(0);
    expect(listener).not.toHaveBeenCalled();
    outbox.enqueue([reading("m", 2)]);
    expect(listener).toHaveBeenCalledTimes(1);
  });
});

describe("OutboxWriter", () => {
  let temp: ReturnType<typeof tempDbPath>;
  let db: Db;
  let outbox: Outbox;
  beforeEach(() => {
    temp = tempDbPath();
    db = openDatabase(temp.path);
    outbox = new Outbox(db, { maxRows: 10_000 });
  });
  afterEach(async () => {
    await db.close();
    temp.cleanup();
  });

  it("commits readings written together as one transaction, in order", async () => {
    const commit = vi.spyOn(outbox, "enqueueMessages");
    const writer = new OutboxWriter(outbox);
    const writes = Array.from({ length: 10 }, (_, i) => writer.write(reading(`m${i % 3}`, i + 1)));
    expect(outbox.pending()).toBe(0); // nothing committed before the batch closes
    await writer.flush();
    await Promise.all(writes);
    expect(commit).toHaveBeenCalledTimes(1);
    expect(outbox.peek(100).map((r) => JSON.parse(r.payload).ts)).toEqual([...Array(10).keys()].map((i) => i + 1));
  });

  it("splits a burst into batches of maxBatch rows", async () => {
    const commit = vi.spyOn(outbox, "enqueueMessages");
    const writer = new OutboxWriter(outbox, { maxBatch: 500 });
    const writes = Array.from({ length: 1200 }, (_, i) => writer.write(reading("m", i + 1)));
    await writer.flush();
    await Promise.all(writes);
    expect(commit.mock.calls.map(([messages]) => messages.length)).toEqual([500, 500, 200]);
    expect(outbox.pending()).toBe(1200);
  });

  it("commits on its own after the delay, without flush", async () => {
    const writer = new OutboxWriter(outbox, { maxDelayMs: 5 });
    await Promise.all([writer.write(reading("m", 1)), writer.write(reading("m", 2))]);
    expect(outbox.pending()).toBe(2);
  });

  it("rejects a bad reading alone and keeps its neighbours", async () => {
    const writer = new OutboxWriter(outbox);
    const good = writer.write(reading("m", 1));
    const bad = writer.write({ meter: "m", ts: 2, values: { voltage: Number.POSITIVE_INFINITY } });
    await expect(bad).rejects.toThrow(/'voltage'/);
    await writer.close();
    await good;
    expect(outbox.pending()).toBe(1);
    await expect(writer.write(reading("m", 3))).rejects.toThrow(/closed/);
  });

  it("rejects every reading of a batch the database refused", async () => {
    db.sqlite.exec("CREATE TRIGGER full BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    const writer = new OutboxWriter(outbox);
    const writes = [writer.write(reading("m", 1)), writer.write(reading("m", 2))];
    await writer.flush();
    for (const write of writes) await expect(write).rejects.toThrow(/disk full/);
  });
});

describe("reportDrops", () => {
  it("counts every dropped row and logs one line per period with the count since the last line", async () => {
    vi.useFakeTimers();
    const metrics = createMetrics({ defaultMetrics: false });
    const warnings: object[] = [];
    const temp = tempDbPath();
    const db = openDatabase(temp.path);
    try {
      const outbox = new Outbox(db, {
        maxRows: 2,
        onDropped: reportDrops(metrics, { warn: (details) => warnings.push(details) }, 2, 10_000),
      });
      outbox.enqueue([reading("m", 1), reading("m", 2), reading("m", 3), reading("m", 4), reading("m", 5)]);
      expect(warnings).toEqual([{ dropped: 3, maxRows: 2, perSeconds: 10 }]); // the first drop is told at once
      // 69 batches in 20 s, each dropping one row (as in the field report): 2 more lines, not 69.
      for (let i = 0; i < 69; i++) {
        outbox.enqueue([reading("m", 100 + i)]);
        vi.advanceTimersByTime(290);
      }
      vi.advanceTimersByTime(10_000);
      expect(warnings.length).toBeLessThanOrEqual(4);
      const logged = warnings.reduce((sum, w) => sum + (w as { dropped: number }).dropped, 0);
      expect(logged).toBe(3 + 69);
      expect(await metrics.registry.getSingleMetricAsString("dlms_bridge_outbox_dropped_total")).toContain(
        'dlms_bridge_outbox_dropped_total{reason="max_rows"} 72',
      );
    } finally {
      vi.useRealTimers();
      await db.close();
      temp.cleanup();
    }
  });
});

describe("OutboxWriter when the disk is full", () => {
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

  function wideReading(seq: number): Reading {
    const values = Object.fromEntries(Array.from({ length: 40 }, (_, k) => [`register_${k}`, seq + k / 10]));
    return { meter: "m1", ts: 1000 + seq, values };
  }

  function fillDisk(): void {
    const pages = db.sqlite.pragma("page_count", { simple: true }) as number;
    db.sqlite.pragma(`max_page_count = ${pages + 2}`);
  }

  it("keeps readings in memory and commits them, in order, once the disk has room again", async () => {
    const outbox = new Outbox(db, { maxRows: 10_000 });
    const retries: unknown[] = [];
    const writer = new OutboxWriter(outbox, { retryMs: 3_600_000, onRetry: (error) => retries.push(error) });
    fillDisk();
    const settled: string[] = [];
    const writes = Array.from({ length: 300 }, (_, i) =>
      writer.write(wideReading(i)).then(
        () => settled.push("ok"),
        () => settled.push("rejected"),
      ),
    );
    await writer.flush();
    expect((retries[0] as { code?: string }).code).toBe("SQLITE_FULL");
    expect(outbox.pending()).toBe(0);
    expect(writer.waiting).toBe(300);
    expect(settled).toEqual([]);

    db.sqlite.pragma("max_page_count = 1000000");
    await writer.flush();
    await Promise.all(writes);
    expect(settled.every((s) => s === "ok")).toBe(true);
    expect(outbox.peek(1000).map((row) => JSON.parse(row.payload).ts - 1000)).toEqual([...Array(300).keys()]);
  });

  it("beyond maxWaiting rejects the oldest waiting readings with a clear error", async () => {
    const outbox = new Outbox(db, { maxRows: 10_000 });
    const writer = new OutboxWriter(outbox, { retryMs: 3_600_000, maxWaiting: 100 });
    fillDisk();
    const outcomes = Array.from({ length: 300 }, (_, i) =>
      writer.write(wideReading(i)).then(
        () => "ok",
        (error: Error) => error.message,
      ),
    );
    await writer.flush();
    expect(writer.waiting).toBe(100);
    db.sqlite.pragma("max_page_count = 1000000");
    await writer.close();
    const results = await Promise.all(outcomes);
    expect(new Set(results.slice(0, 200))).toEqual(new Set(["outbox writer: 100 readings already wait for the disk"]));
    expect(new Set(results.slice(200))).toEqual(new Set(["ok"]));
    expect(outbox.peek(1000).map((row) => JSON.parse(row.payload).ts - 1000)).toEqual(
      [...Array(100).keys()].map((i) => i + 200),
    );
  });
});
