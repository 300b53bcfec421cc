// A SQLite file in a fresh temp dir, removed after the test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function tempDbPath(): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "bridge-db-"));
  return { path: join(dir, "nested", "bridge.db"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
