// Where each meter's load-profile backfill stands: the meter timestamp of the last row delivered. deliver() writes
// the rows to the outbox and moves the cursor in ONE transaction (synchronous better-sqlite3), so after a SIGKILL a
// row is either in the outbox with the cursor past it, or neither: read again, never lost, never repeated.
import type { Statement } from "better-sqlite3";
import type { Outbox, OutboxMessage } from "../outbox/outbox.js";
import type { Db } from "./db.js";

export class ProfileCursors {
  private readonly select: Statement<[string, string]>;
  private readonly upsert: Statement<[string, string, number, number]>;
  private readonly deliverTx: (messages: readonly OutboxMessage[], meter: string, profile: string, ts: number) => void;

  constructor(
    db: Db,
    outbox: Pick<Outbox, "enqueueMessages">,
    private readonly now: () => number = Date.now,
  ) {
    this.select = db.sqlite.prepare("SELECT last_ts AS lastTs FROM profile_cursors WHERE meter = ? AND profile = ?");
    this.upsert = db.sqlite.prepare(
      `INSERT INTO profile_cursors (meter, profile, last_ts, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (meter, profile) DO UPDATE SET last_ts = excluded.last_ts, updated_at = excluded.updated_at`,
    );
    this.deliverTx = db.sqlite.transaction((messages, meter, profile, ts) => {
      outbox.enqueueMessages(messages);
      this.upsert.run(meter, profile, ts, this.now());
    });
  }

  /** The last delivered row's timestamp, or undefined when nothing was delivered yet. */
  get(meter: string, profile: string): number | undefined {
    return (this.select.get(meter, profile) as { lastTs: number } | undefined)?.lastTs;
  }

  /** Stores the messages in the outbox and the cursor at `lastTs`, atomically. */
  deliver(meter: string, profile: string, messages: readonly OutboxMessage[], lastTs: number): void {
    this.deliverTx(messages, meter, profile, lastTs);
  }
}
