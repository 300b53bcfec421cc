import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseMeterUrl } from "../../src/config/index.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { listEvents, pruneEvents, recordEvent, schedulePruning } from "../../src/store/events.js";
import { listStoredMeters, saveMeterConfigs, saveMeterState, saveMeterStates } from "../../src/store/meters.js";
import { tempDbPath } from "./temp-db.js";

describe("openDatabase", () => {
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

  it("uses WAL with synchronous=NORMAL and migrates once (reopening keeps data)", async () => {
    expect(db.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(db.sqlite.pragma("synchronous", { simple: true })).toBe(1);
    await recordEvent(db, { meter: "m", kind: "connect", detail: {}, ts: 1 });
    await db.close();
    db = openDatabase(temp.path);
    expect(await listEvents(db)).toHaveLength(1);
  });

  it("refuses a database written by a newer schema, naming the file", async () => {
    db.sqlite.pragma("user_version = 99");
    await db.close();
    expect(() => openDatabase(temp.path)).toThrow(/bridge\.db.*schema version 99/);
    db = openDatabase(":memory:");
  });

  it("reports writability, false once closed", async () => {
    expect(db.isWritable()).toBe(true);
    await db.close();
    expect(db.isWritable()).toBe(false);
  });

  it("stores meter configuration without the password and keeps the last state", async () => {
    const meter = parseMeterUrl("MS1", "hdlc://10.0.0.5:4059?auth=low", { METER_MS1_PASSWORD: "top-secret" });
    const other = parseMeterUrl("old", "hdlc://10.0.0.6:4059");
    await saveMeterConfigs(db, [meter, other], 1);
    await saveMeterState(db, "ms1", { consecutiveFailures: 2, breakerState: "open", lastError: "timeout" }, 2);
    await saveMeterConfigs(db, [meter], 3); // "old" is no longer configured

    const raw = db.sqlite.prepare("SELECT * FROM meters").all();
    expect(JSON.stringify(raw)).not.toContain("top-secret");
    const stored = await listStoredMeters(db);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: "ms1", consecutiveFailures: 2, breakerState: "open", lastError: "timeout" });
    expect(stored[0]!.config).toMatchObject({ host: "10.0.0.5", auth: "low" });
  });

  it("saves the state of many meters in one transaction, all or nothing", async () => {
    const a = parseMeterUrl("a", "hdlc://10.0.0.7:4059");
    const b = parseMeterUrl("b", "hdlc://10.0.0.8:4059");
    await saveMeterConfigs(db, [a, b], 1);
    await saveMeterStates(
      db,
      [
        { id: "a", state: { consecutiveFailures: 0, breakerState: "closed", lastSuccess: 10 } },
        { id: "b", state: { consecutiveFailures: 4, breakerState: "half-open", lastError: "no answer to SNRM" } },
      ],
      5,
    );
    const stored = await listStoredMeters(db);
    expect(
      stored.map((m) => [m.id, m.consecutiveFailures, m.breakerState, m.lastSuccess ?? null, m.lastError ?? null]),
    ).toEqual([
      ["a", 0, "closed", 10, null],
      ["b", 4, "half-open", null, "no answer to SNRM"],
    ]);

    // A failing update rolls the whole batch back.
    db.sqlite.exec(
      "CREATE TEMP TRIGGER boom BEFORE UPDATE ON meters WHEN NEW.id = 'b' BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
    );
    await expect(
      saveMeterStates(db, [
        { id: "a", state: { consecutiveFailures: 9, breakerState: "open" } },
        { id: "b", state: { consecutiveFailures: 9, breakerState: "open" } },
      ]),
    ).rejects.toThrow(/disk says no/);
    expect((await listStoredMeters(db)).map((m) => m.consecutiveFailures)).toEqual([0, 4]);
  });

  it("prunes events older than the retention", async () => {
    const day = 86_400_000;
    const now = 100 * day;
    await recordEvent(db, { meter: "m", kind: "connect", detail: { n: 1 }, ts: now - 8 * day });
    await recordEvent(db, { meter: "m", kind: "breaker", detail: { to: "open" }, ts: now - 6 * day });
    expect(await pruneEvents(db, 7, now)).toBe(1);
    expect(await listEvents(db, { meter: "m" })).toEqual([
      { meter: "m", kind: "breaker", detail: { to: "open" }, ts: now - 6 * day },
    ]);
  });
});

describe("schedulePruning", () => {
  it("prunes at once and again at each interval until stopped", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    const temp = tempDbPath();
    const db = openDatabase(temp.path);
    try {
      const day = 86_400_000;
      vi.setSystemTime(100 * day);
      await recordEvent(db, { meter: "m", kind: "connect", detail: {}, ts: 90 * day });
      await recordEvent(db, { meter: "m", kind: "connect", detail: {}, ts: 99 * day });
      const stop = schedulePruning(db, 7, (error) => {
        throw error;
      });
      await vi.waitFor(async () => expect(await listEvents(db)).toHaveLength(1));

      vi.setSystemTime(107 * day);
      vi.advanceTimersByTime(3_600_000);
      await vi.waitFor(async () => expect(await listEvents(db)).toHaveLength(0));

      stop();
      await recordEvent(db, { meter: "m", kind: "connect", detail: {}, ts: 0 });
      vi.advanceTimersByTime(10 * 3_600_000);
      await new Promise((resolve) => setImmediate(resolve)); // a prune, had one started, would have finished
      expect(await listEvents(db)).toHaveLength(1);
    } finally {
      vi.useRealTimers();
      await db.close();
      temp.cleanup();
    }
  });
});
