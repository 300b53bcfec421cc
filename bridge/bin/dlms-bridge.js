#!/usr/bin/env node
// Entry point for `npx dlms-bridge`. Runs the compiled CLI (make build / make test produce dist/).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const entry = join(root, "dist", "cli", "main.js");
if (!existsSync(entry)) {
  console.error(
    `dlms-bridge is not built yet (${entry} missing): run 'make build' (or 'make test') in the repository root first.`,
  );
  process.exit(1);
}
await import(entry);
