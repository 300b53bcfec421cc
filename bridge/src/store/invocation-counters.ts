// Persistent HLS-GMAC invocation counters. A counter value must never be used twice with the same key, even across
// a SIGKILL: values are reserved in blocks, and a block is committed to SQLite before its first value is used, so a
// restart continues above everything that may have gone on the wire. The meter's last counter is kept as well
// (the replay floor). Rows are keyed by a one-way fingerprint of the keys, so new keys start afresh.
import { createHash } from "node:crypto";
import type { MeterConfig } from "../model.js";
import type { HlsSupport } from "../poller/hls-auth.js";
import type { Db } from "./db.js";

/** Values reserved per SQLite write: at most this many are skipped after a crash. */
export const IC_RESERVATION_BLOCK = 256;
export const MAX_IC = 0xffff_ffff;

/** Hash of both keys with a domain label: identifies the key pair without revealing it. */
export function keyFingerprint(keys: { ek: Uint8Array; ak: Uint8Array }): string {
  return createHash("sha256")
    .update("dlms-bridge invocation counter v1")
    .update(keys.ek)
    .update(keys.ak)
    .digest("hex")
    .slice(0, 16);
}

interface Row {
  reserved_until: number;
  server_last: number | null;
}

export class PersistentInvocationCounter {
  private nextValue: number;
  private limit: number;
  private serverLast: number | undefined;

  constructor(
    private readonly db: Db,
    private readonly meter: string,
    private readonly client: number,
    private readonly keyId: string,
    private readonly block = IC_RESERVATION_BLOCK,
  ) {
    const row = db.sqlite
      .prepare(
        "SELECT reserved_until, server_last FROM invocation_counters WHERE meter = ? AND client = ? AND key_id = ?",
      )
      .get(meter, client, keyId) as Row | undefined;
    // Everything below reserved_until may have been used: start there (1 on a fresh key: 0 is never sent).
    this.nextValue = Math.max(1, row?.reserved_until ?? 1);
    this.limit = this.nextValue;
    this.serverLast = row?.server_last ?? undefined;
  }

  /** The next counter: reserved (committed) before it is returned. */
  next(): number {
    if (this.nextValue >= this.limit) this.reserve(this.nextValue + this.block);
    return this.nextValue++;
  }

  /** The meter expects at least `value`: skip ahead (persisted at once). */
  raiseTo(value: number): void {
    if (value <= this.nextValue) return;
    this.nextValue = value;
    if (this.nextValue >= this.limit) this.reserve(this.nextValue + this.block);
  }

  /** The next value that would be used (for tests and the trace). */
  peek(): number {
    return this.nextValue;
  }

  get lastServerCounter(): number | undefined {
    return this.serverLast;
  }

  /** Records the meter's counter once accepted (only ever upward). */
  recordServerCounter(value: number): void {
    if (this.serverLast !== undefined && value <= this.serverLast) return;
    this.serverLast = value;
    this.db.sqlite
      .prepare(
        `INSERT INTO invocation_counters (meter, client, key_id, reserved_until, server_last, updated_at)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (meter, client, key_id) DO UPDATE SET server_last = excluded.server_last, updated_at = excluded.updated_at`,
      )
      .run(this.meter, this.client, this.keyId, this.limit, value, Date.now());
  }

  private reserve(until: number): void {
    if (until - 1 > MAX_IC) {
      throw new Error(`invocation counter of meter ${this.meter} is exhausted (2^32 values used): renew the keys`);
    }
    this.db.sqlite
      .prepare(
        `INSERT INTO invocation_counters (meter, client, key_id, reserved_until, server_last, updated_at)
         VALUES (?, ?, ?, ?, NULL, ?)
         ON CONFLICT (meter, client, key_id) DO UPDATE SET
           reserved_until = MAX(reserved_until, excluded.reserved_until), updated_at = excluded.updated_at`,
      )
      .run(this.meter, this.client, this.keyId, until, Date.now());
    this.limit = until;
  }
}

/** The poller's HLS support over this store: one counter per (meter, client SAP, keys), kept for the process. */
export function hlsSupport(db: Db, onSecurityFailure: (meter: string, check: string) => void): HlsSupport {
  const counters = new Map<string, PersistentInvocationCounter>();
  return {
    counterFor(meter: MeterConfig) {
      if (!meter.keys) throw new Error(`meter ${meter.id}: auth=hls-gmac without keys`);
      const keyId = keyFingerprint(meter.keys);
      const id = `${meter.id}/${meter.clientAddress}/${keyId}`;
      let counter = counters.get(id);
      if (!counter) {
        counter = new PersistentInvocationCounter(db, meter.id, meter.clientAddress, keyId);
        counters.set(id, counter);
      }
      return counter;
    },
    onSecurityFailure,
  };
}
