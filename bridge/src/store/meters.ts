// Last known state of each configured meter (survives restarts; served by /api/meters). Never stores a password.
import { type PublicMeterConfig, withoutSecrets } from "../config/meter-url.js";
import type { MeterConfig } from "../model.js";
import type { Db } from "./db.js";

export interface MeterStateUpdate {
  lastSuccess?: number;
  lastError?: string;
  consecutiveFailures: number;
  breakerState: "closed" | "half-open" | "open";
}

export interface StoredMeter {
  id: string;
  config: PublicMeterConfig;
  lastSuccess?: number;
  lastError?: string;
  consecutiveFailures: number;
  breakerState: string;
  updatedAt: number;
}

// Writes use better-sqlite3's own transactions: when SQLite has already rolled back (disk full), they rethrow the
// real error, where kysely's unconditional ROLLBACK replaced it with "cannot rollback - no transaction is active".

/** Upserts the configuration of every meter (password removed) and deletes meters no longer configured. */
export async function saveMeterConfigs(db: Db, meters: readonly MeterConfig[], now = Date.now()): Promise<void> {
  const { sqlite } = db;
  const upsert = sqlite.prepare(
    `INSERT INTO meters (id, config, consecutive_failures, breaker_state, updated_at) VALUES (?, ?, 0, 'closed', ?)
     ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at`,
  );
  const ids = JSON.stringify(meters.map((meter) => meter.id));
  const removeOthers = sqlite.prepare("DELETE FROM meters WHERE id NOT IN (SELECT value FROM json_each(?))");
  sqlite.transaction(() => {
    for (const meter of meters) upsert.run(meter.id, JSON.stringify(withoutSecrets(meter)), now);
    removeOthers.run(ids);
  })();
}

/** Records the outcome of the latest poll; fields left undefined keep their stored value. */
export async function saveMeterState(db: Db, id: string, state: MeterStateUpdate, now = Date.now()): Promise<void> {
  await saveMeterStates(db, [{ id, state }], now);
}

/** The latest state of many meters in ONE transaction (the bridge flushes every few seconds, not per poll). */
export async function saveMeterStates(
  db: Db,
  updates: readonly { id: string; state: MeterStateUpdate }[],
  now = Date.now(),
): Promise<void> {
  if (updates.length === 0) return;
  const { sqlite } = db;
  // COALESCE keeps the stored value for a field left undefined.
  const update = sqlite.prepare(
    `UPDATE meters SET consecutive_failures = ?, breaker_state = ?, updated_at = ?,
       last_success = COALESCE(?, last_success), last_error = COALESCE(?, last_error) WHERE id = ?`,
  );
  sqlite.transaction(() => {
    for (const { id, state } of updates) {
      update.run(
        state.consecutiveFailures,
        state.breakerState,
        now,
        state.lastSuccess ?? null,
        state.lastError ?? null,
        id,
      );
    }
  })();
}

export async function listStoredMeters(db: Db): Promise<StoredMeter[]> {
  const rows = await db.kysely.selectFrom("meters").selectAll().orderBy("id").execute();
  return rows.map((row) => ({
    id: row.id,
    config: JSON.parse(row.config) as PublicMeterConfig,
    ...(row.last_success !== null ? { lastSuccess: row.last_success } : {}),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    consecutiveFailures: row.consecutive_failures,
    breakerState: row.breaker_state,
    updatedAt: row.updated_at,
  }));
}
