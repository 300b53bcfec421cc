// The persistent invocation counter: values reserved in blocks committed before use, so a new process (after a
// SIGKILL: nothing flushed on exit) continues above every value the old one could have sent.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Db, openDatabase } from "../../src/store/db.js";
import {
  IC_RESERVATION_BLOCK,
  keyFingerprint,
  PersistentInvocationCounter,
} from "../../src/store/invocation-counters.js";

const keys = { ek: new Uint8Array(16).fill(0xab), ak: new Uint8Array(16).fill(0xcd) };
const open: Db[] = [];
afterEach(async () => {
  for (const db of open.splice(0)) await db.close();
});

function database(path: string): Db {
  const db = openDatabase(path);
  open.push(db);
  return db;
}

describe("PersistentInvocationCounter", () => {
  it("strictly increasing, and a second process starts above the first one's reservation", () => {
    const path = join(mkdtempSync(join(tmpdir(), "ic-")), "bridge.db");
    const id = keyFingerprint(keys);
    const first = new PersistentInvocationCounter(database(path), "m1", 1, id);
    const used = Array.from({ length: 300 }, () => first.next());
    expect(used[0]).toBe(1);
    expect(used.every((v, i) => i === 0 || v > used[i - 1]!)).toBe(true);
    // A second handle on the same file, without any close or flush by the first (as after SIGKILL).
    const second = new PersistentInvocationCounter(database(path), "m1", 1, id);
    const next = second.next();
    expect(next).toBeGreaterThan(Math.max(...used));
    expect(next).toBeLessThanOrEqual(Math.max(...used) + IC_RESERVATION_BLOCK + 1);
  });
  it("separate counters per client SAP and per key pair; raiseTo persists; the meter's floor is kept", () => {
    const path = join(mkdtempSync(join(tmpdir(), "ic-")), "bridge.db");
    const db = database(path);
    const id = keyFingerprint(keys);
    const a = new PersistentInvocationCounter(db, "m1", 1, id);
    a.next();
    a.raiseTo(5000);
    a.recordServerCounter(77);
    expect(a.next()).toBe(5000);
    expect(new PersistentInvocationCounter(db, "m1", 17, id).next()).toBe(1);
    expect(
      new PersistentInvocationCounter(db, "m1", 1, keyFingerprint({ ...keys, ak: new Uint8Array(16) })).next(),
    ).toBe(1);
    const again = new PersistentInvocationCounter(db, "m1", 1, id);
    expect(again.next()).toBeGreaterThan(5000);
    expect(again.lastServerCounter).toBe(77);
  });
  it("stores a fingerprint, never the keys", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "ic-")), "bridge.db");
    const db = database(path);
    new PersistentInvocationCounter(db, "m1", 1, keyFingerprint(keys)).next();
    await db.close();
    const file = readFileSync(path);
    expect(file.includes(Buffer.from(keys.ek))).toBe(false);
    expect(file.includes(Buffer.from(keys.ak))).toBe(false);
    expect(file.toString("latin1").toUpperCase()).not.toContain("ABABABABABABABAB");
  });
});
