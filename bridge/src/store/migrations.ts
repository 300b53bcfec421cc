// Schema migrations, applied in order at open. PRAGMA user_version records how many have run; append, never edit.

export const MIGRATIONS: readonly string[] = [
  `
  -- AUTOINCREMENT: ids are never reused, so the publisher's "sent up to id N" cursor stays valid after the
  -- outbox empties.
  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meter TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE meters (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    last_success INTEGER,
    last_error TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    breaker_state TEXT NOT NULL DEFAULT 'closed',
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meter TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    ts INTEGER NOT NULL
  );
  CREATE INDEX events_ts ON events (ts);
  CREATE INDEX events_meter_ts ON events (meter, ts);
  CREATE TABLE health (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL);
  INSERT INTO health (id, checked_at) VALUES (1, 0);
  `,
  `
  -- Per meter and load profile: the meter's timestamp (ms) of the last row handed to the outbox. Written in the
  -- same transaction as those rows, so a crash can neither lose nor repeat a row.
  CREATE TABLE profile_cursors (
    meter TEXT NOT NULL,
    profile TEXT NOT NULL,
    last_ts INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (meter, profile)
  );
  `,
  `
  -- HLS-GMAC invocation counters per (meter, client SAP, key fingerprint). reserved_until: every counter below it
  -- may have been used, so after any restart (even SIGKILL) the bridge starts there. server_last: the highest
  -- counter accepted from the meter (the replay floor). The fingerprint is a one-way hash, never a key.
  CREATE TABLE invocation_counters (
    meter TEXT NOT NULL,
    client INTEGER NOT NULL,
    key_id TEXT NOT NULL,
    reserved_until INTEGER NOT NULL,
    server_last INTEGER,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (meter, client, key_id)
  );
  `,
];
