// The bridge's SQLite file: kysely over better-sqlite3, WAL with synchronous=NORMAL (a commit survives a process
// crash; only an OS crash or power cut can lose the last few), migrations applied at open.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import { MIGRATIONS } from "./migrations.js";
import type { DatabaseSchema } from "./schema.js";

export interface Db {
  readonly path: string;
  /** Typed query builder (async API). */
  readonly kysely: Kysely<DatabaseSchema>;
  /** The synchronous handle, for hot paths that must be atomic and cheap (the outbox). */
  readonly sqlite: Database.Database;
  /** True when a write commits (for /readyz); false on a read-only, full or broken file. */
  isWritable(): boolean;
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
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("busy_timeout = 5000");
    migrate(sqlite);
  } catch (error) {
    throw new DatabaseError(`cannot open database '${path}': ${(error as Error).message}`, error);
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
