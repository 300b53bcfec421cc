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

/** Upserts the configuration of every meter (password removed) and deletes meters no longer configured. */
export async function saveMeterConfigs(db: Db, meters: readonly MeterConfig[], now = Date.now()): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    for (const meter of meters) {
      const config = JSON.stringify(withoutSecrets(meter));
      await trx
        .insertInto("meters")
        .values({ id: meter.id, config, consecutive_failures: 0, breaker_state: "closed", updated_at: now })
        .onConflict((oc) => oc.column("id").doUpdateSet({ config, updated_at: now }))
        .execute();
    }
    const ids = meters.map((meter) => meter.id);
    let removal = trx.deleteFrom("meters");
    if (ids.length > 0) removal = removal.where("id", "not in", ids);
    await removal.execute();
  });
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
  await db.kysely.transaction().execute(async (trx) => {
    for (const { id, state } of updates) {
      await trx
        .updateTable("meters")
        .set({
          consecutive_failures: state.consecutiveFailures,
          breaker_state: state.breakerState,
          updated_at: now,
          ...(state.lastSuccess !== undefined ? { last_success: state.lastSuccess } : {}),
          ...(state.lastError !== undefined ? { last_error: state.lastError } : {}),
        })
        .where("id", "=", id)
        .execute();
    }
  });
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
