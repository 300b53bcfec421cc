// Domain types shared by config, poller, store and publish.

export interface RegisterSpec {
  key: string; // telemetry key, e.g. "voltage"
  obis: string; // dotted form "1.0.32.7.0.255"
  classId: number; // 3 Register by default
  attributeId: number; // 2 value by default
}

/** A load profile (class 7) the bridge backfills from: rows with the meter's own timestamps. */
export interface ProfileSpec {
  /** Dotted OBIS of the profile, e.g. "1.0.99.1.0.255". */
  obis: string;
  /** Captured register OBIS (dotted) -> telemetry key. Empty: every numeric column under its default key. */
  keys: Record<string, string>;
  /** How far back (ms before the meter's clock) rows are read at most. */
  backfillMs: number;
}

export interface HlsConfig {
  /** Protection of every xDLMS APDU. */
  security: "auth" | "enc" | "auth-enc";
  /** Our (client) system title, 16 hex digits. */
  systemTitle: string;
  /** When set, the meter's system title must be this one (16 hex digits). */
  serverSystemTitle?: string;
  /** "store": our invocation counter comes from SQLite only; "auto": also from the meter's counter object. */
  ic: "store" | "auto";
}

export interface MeterConfig {
  id: string; // lower-case; letters, digits, _ and -
  transport: "hdlc" | "wrapper";
  host: string;
  port: number;
  clientAddress: number;
  serverLogical: number;
  serverPhysical?: number;
  addressSize?: 1 | 2 | 4;
  auth: "none" | "low" | "hls-gmac";
  password?: string; // SECRET
  /** auth=hls-gmac: ciphering settings (no secrets in here). */
  hls?: HlsConfig;
  /** auth=hls-gmac: SECRET global unicast keys (from METER_<ID>_AUTH_KEY / METER_<ID>_BLOCK_KEY only). */
  keys?: { ek: Uint8Array; ak: Uint8Array };
  intervalMs: number;
  timeoutMs: number;
  /** Deadline of one GET with all its blocks (default: 6 x timeoutMs, see client/client.ts). */
  deadlineMs?: number;
  /** Largest reply accepted from this meter, in bytes (default 256 KiB, see client/client.ts). */
  maxReplyBytes?: number;
  registers: RegisterSpec[];
  /** Load profiles to backfill (profile=); absent or empty: none. */
  profiles?: ProfileSpec[];
}

/** One poll's result, as written to the outbox and published on dlms/<meter>/telemetry. */
export interface Reading {
  meter: string;
  ts: number; // ms since epoch, at read time
  values: Record<string, number>;
  units?: Record<string, string>;
  /** key -> reason, for registers that failed in this poll (not published as telemetry). */
  errors?: Record<string, string>;
}
