// The backfill cursor moves in the same SQLite transaction as the rows it covers: both or neither, also across a
// reopen of the file.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Outbox } from "../../src/outbox/outbox.js";
import { openDatabase } from "../../src/store/db.js";
import { ProfileCursors } from "../../src/store/profile-cursors.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dbPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "dlms-cursor-"));
  dirs.push(dir);
  return join(dir, "bridge.db");
}

const message = (n: number) => ({ meter: "m1", topic: "dlms/m1/profile", payload: `[{"n":${n}}]` });

describe("ProfileCursors", () => {
  it("stores rows and cursor together and finds the cursor after a reopen", async () => {
    const path = dbPath();
    const db = openDatabase(path);
    const outbox = new Outbox(db, { maxRows: 100 });
    const cursors = new ProfileCursors(db, outbox);
    expect(cursors.get("m1", "1.0.99.1.0.255")).toBeUndefined();
    cursors.deliver("m1", "1.0.99.1.0.255", [message(1), message(2)], 1_000);
    cursors.deliver("m1", "1.0.99.1.0.255", [message(3)], 2_000);
    expect(outbox.pending()).toBe(3);
    await db.close();

    const again = openDatabase(path);
    const reopened = new ProfileCursors(again, new Outbox(again, { maxRows: 100 }));
    expect(reopened.get("m1", "1.0.99.1.0.255")).toBe(2_000);
    expect(reopened.get("m1", "1.0.99.2.0.255")).toBeUndefined();
    await again.close();
  });

  it("leaves the cursor where it was when the rows cannot be stored", async () => {
    const db = openDatabase(dbPath());
    const real = new Outbox(db, { maxRows: 100 });
    let fail = false;
    const outbox = {
      enqueueMessages: (m: Parameters<Outbox["enqueueMessages"]>[0]) => {
        const n = real.enqueueMessages(m);
        if (fail) throw new Error("disk full");
        return n;
      },
    };
    const cursors = new ProfileCursors(db, outbox);
    cursors.deliver("m1", "p", [message(1)], 1_000);
    fail = true;
    expect(() => cursors.deliver("m1", "p", [message(2)], 2_000)).toThrow("disk full");
    expect(cursors.get("m1", "p")).toBe(1_000);
    const stored = db.sqlite.prepare("SELECT payload FROM outbox ORDER BY id").all() as { payload: string }[];
    expect(stored.map((r) => r.payload)).toEqual(['[{"n":1}]']); // the failed batch's row was rolled back too
    await db.close();
  });
});
