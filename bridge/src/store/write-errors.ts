// What a failed SQLite write means for the operator, in words: "disk full at /data/bridge.db", not the driver's
// "database or disk is full" (or, after kysely's blind ROLLBACK, "cannot rollback - no transaction is active").
// The reason is also the label of dlms_bridge_outbox_write_errors_total.

export type WriteErrorReason = "disk_full" | "io_error" | "locked" | "read_only" | "cannot_open" | "other";

export const WRITE_ERROR_REASONS: readonly WriteErrorReason[] = [
  "disk_full",
  "io_error",
  "locked",
  "read_only",
  "cannot_open",
  "other",
];

/** The SQLite result code of an error (better-sqlite3 puts it in `code`), also when wrapped in `cause`. */
function sqliteCode(error: unknown): string | undefined {
  for (
    let e = error, depth = 0;
    e && typeof e === "object" && depth < 4;
    e = (e as { cause?: unknown }).cause, depth++
  ) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("SQLITE_")) return code;
  }
  return undefined;
}

export function writeErrorReason(error: unknown): WriteErrorReason {
  const code = sqliteCode(error) ?? "";
  if (code.startsWith("SQLITE_FULL")) return "disk_full";
  if (code.startsWith("SQLITE_IOERR")) {
    // The kernel's ENOSPC can surface as an I/O error on a write or an fsync.
    return /disk is full|no space/i.test(String((error as Error).message)) ? "disk_full" : "io_error";
  }
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) return "locked";
  if (code.startsWith("SQLITE_READONLY")) return "read_only";
  if (code.startsWith("SQLITE_CANTOPEN")) return "cannot_open";
  return "other";
}

/**
 * True when the disk may recover (space freed, lock released, remounted read-write): the write is worth retrying.
 * "other" (a constraint, a bad statement, a corrupt file) will fail the same way again.
 */
export function isTransientWriteError(error: unknown): boolean {
  return writeErrorReason(error) !== "other";
}

const WORDS: Record<WriteErrorReason, string> = {
  disk_full: "disk full",
  io_error: "I/O error",
  locked: "database locked by another process",
  read_only: "file system or database read-only",
  cannot_open: "cannot open the database file",
  other: "write refused",
};

/** "disk full at /data/bridge.db" (plus the driver's message for reasons that need it). */
export function describeWriteError(error: unknown, dbPath: string): string {
  const reason = writeErrorReason(error);
  const base = `${WORDS[reason]} at ${dbPath}`;
  return reason === "disk_full" ? base : `${base} (${(error as Error).message})`;
}
