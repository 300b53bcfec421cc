// The bridge's SQLite file: kysely over better-sqlite3, WAL with synchronous=NORMAL (a commit survives a process
// crash; only an OS crash or power cut can lose the last few), migrations applied at open. A new file uses
// incremental auto-vacuum and the WAL is size-limited, so the space a broker outage took is given back (compact()).
import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { MIGRATIONS } from "./migrations.js";
import type { DatabaseSchema } from "./schema.js";
import { describeWriteError, writeErrorReason } from "./write-errors.js";

/** After a checkpoint SQLite cuts the WAL back to this (the default auto-checkpoint is ~1000 pages, 4 MB). */
const JOURNAL_SIZE_LIMIT_BYTES = 4 * 1024 * 1024;

export interface DbFileSizes {
  db: number;
  wal: number;
}

export interface Db {
  readonly path: string;
  /** Typed query builder (async API). */
  readonly kysely: Kysely<DatabaseSchema>;
  /** The synchronous handle, for hot paths that must be atomic and cheap (the outbox). */
  readonly sqlite: Database.Database;
  /** True when a write commits (for /readyz); false on a read-only, full or broken file. */
  isWritable(): boolean;
  /**
   * Gives disk space back after a backlog drained: returns free pages to the file system (files created with
   * incremental auto-vacuum) and checkpoints the WAL, truncating it to 0 bytes. Throws like any write.
   */
  compact(): void;
  /** Bytes of the database file and of its WAL (0 when absent); for logs and tests. */
  fileSizes(): DbFileSizes;
  close(): Promise<void>;
}

export class DatabaseError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = "DatabaseError";
  }
}

export function openDatabase(path: string): Db {
  let sqlite: Database.Database;
  try {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    sqlite = new Database(path);
    // Only takes effect on a file without tables yet (existing files keep theirs; VACUUM would convert them).
    if ((sqlite.pragma("user_version", { simple: true }) as number) === 0) sqlite.pragma("auto_vacuum = INCREMENTAL");
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
    migrate(sqlite);
  } catch (error) {
    const message =
      writeErrorReason(error) === "other"
        ? `cannot open database '${path}': ${(error as Error).message}`
        : `cannot open database: ${describeWriteError(error, path)}`;
    throw new DatabaseError(message, error);
  }
  const kysely = new Kysely<DatabaseSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
  const touchHealth = sqlite.prepare("UPDATE health SET checked_at = ? WHERE id = 1");
  let closed = false;
  return {
    path,
    kysely,
    sqlite,
    isWritable() {
      if (closed) return false;
      try {
        return touchHealth.run(Date.now()).changes === 1;
      } catch {
        return false;
      }
    },
    compact() {
      if (closed) return;
      if ((sqlite.pragma("freelist_count", { simple: true }) as number) > 0) sqlite.pragma("incremental_vacuum");
      sqlite.pragma("wal_checkpoint(TRUNCATE)");
    },
    fileSizes() {
      const size = (file: string) => {
        try {
          return statSync(file).size;
        } catch {
          return 0;
        }
      };
      return path === ":memory:" ? { db: 0, wal: 0 } : { db: size(path), wal: size(`${path}-wal`) };
    },
    async close() {
      if (closed) return;
      closed = true;
      await kysely.destroy(); // closes the better-sqlite3 handle too
    },
  };
}

function migrate(sqlite: Database.Database): void {
  const applied = sqlite.pragma("user_version", { simple: true }) as number;
  if (applied > MIGRATIONS.length) {
    throw new Error(`schema version ${applied} is newer than this bridge knows (${MIGRATIONS.length}): downgrade?`);
  }
  for (let version = applied; version < MIGRATIONS.length; version++) {
    sqlite.transaction(() => {
      sqlite.exec(MIGRATIONS[version]!);
      sqlite.pragma(`user_version = ${version + 1}`);
    })();
  }
}
