// Table types for kysely. Times are ms since the epoch.
import type { Generated } from "kysely";

export interface OutboxTable {
  id: Generated<number>;
  meter: string;
  topic: string;
  payload: string;
  created_at: number;
}

export interface MetersTable {
  id: string;
  /** MeterConfig as JSON, WITHOUT the password. */
  config: string;
  last_success: number | null;
  last_error: string | null;
  consecutive_failures: number;
  breaker_state: string;
  updated_at: number;
}

export interface EventsTable {
  id: Generated<number>;
  meter: string;
  kind: string;
  /** JSON; never holds a secret. */
  detail: string;
  ts: number;
}

export interface HealthTable {
  id: number;
  checked_at: number;
}

export interface ProfileCursorsTable {
  meter: string;
  /** Dotted OBIS of the load profile. */
  profile: string;
  /** The meter's timestamp (ms) of the last row delivered to the outbox. */
  last_ts: number;
  updated_at: number;
}

export interface DatabaseSchema {
  outbox: OutboxTable;
  meters: MetersTable;
  events: EventsTable;
  health: HealthTable;
  profile_cursors: ProfileCursorsTable;
}
