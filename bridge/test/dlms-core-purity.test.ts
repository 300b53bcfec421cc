// The DLMS core is sans-IO: no sockets, timers or clocks, and no imports from the rest of the project.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const coreDir = resolve(import.meta.dirname, "../src/dlms");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("src/dlms is a pure, sans-IO core", () => {
  const all = files(coreDir);
  it("has source files", () => expect(all.length).toBeGreaterThan(3));
  for (const file of all) {
    const rel = relative(coreDir, file);
    it(`${rel} imports only from src/dlms and uses no I/O or time`, () => {
      const src = readFileSync(file, "utf8");
      for (const m of src.matchAll(/from\s+["']([^"']+)["']/g)) {
        const spec = m[1]!;
        if (spec.startsWith(".")) {
          const target = resolve(join(file, ".."), spec);
          expect(target.startsWith(coreDir), `${rel} imports ${spec} from outside src/dlms`).toBe(true);
        } else {
          expect(["node:crypto"], `${rel} imports ${spec}`).toContain(spec);
        }
      }
      expect(src).not.toMatch(/\b(setTimeout|setInterval|Date\.now|new Date\(|process\.|require\()/);
    });
  }
});
