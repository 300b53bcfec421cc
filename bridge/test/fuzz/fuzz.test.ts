// The short fuzz run of `make test` (the long one is `make fuzz`): every target of targets.ts against a few
// thousand mutated inputs with a fixed seed, plus every input saved in regressions/ by an earlier long run.
// Pass means: no untyped error (see targets.ts for what "typed" is), no hang, no broken invariant.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fuzzTarget } from "./engine.js";
import { TARGETS } from "./targets.js";

const SHORT_RUN = 1500;
const REGRESSIONS = join(import.meta.dirname, "regressions");

describe("fuzz targets, short run", () => {
  it.each(TARGETS.map((t) => [t.name, t] as const))("%s: typed errors only", async (_name, target) => {
    const stats = await fuzzTarget(target, SHORT_RUN, 7, 5000);
    expect(stats.failures.map((f) => `${f.kind} #${f.index}: ${f.message}`)).toEqual([]);
    expect(stats.inputs).toBe(SHORT_RUN);
    // Both outcomes are reached: the seeds decode and the mutations get refused (else the target tests nothing).
    expect(stats.accepted).toBeGreaterThan(0);
    expect(stats.typedErrors + stats.accepted).toBe(SHORT_RUN);
  });
});

describe("the fuzz engine", () => {
  it("reports an untyped error and a broken target as crashes, with the input that caused them", async () => {
    const target = {
      name: "broken",
      seeds: () => [Uint8Array.of(1, 2, 3)],
      isTyped: (e: unknown) => e instanceof SyntaxError,
      run: (input: Uint8Array) => {
        if (input.length % 2 === 1) throw new RangeError("odd length");
        throw new SyntaxError("typed refusal");
      },
    };
    const stats = await fuzzTarget(target, 200, 3, 5000);
    expect(stats.failures.length).toBeGreaterThan(0);
    expect(stats.failures.every((f) => f.kind === "crash" && f.input.length % 2 === 1)).toBe(true);
    expect(stats.failures[0]!.message).toBe("RangeError: odd length");
    expect(stats.typedErrors + stats.failures.length).toBe(200);
  });
});

const savedInputs = readdirSync(REGRESSIONS).filter((f) => f.endsWith(".hex"));

describe("fuzz regressions (inputs that once crashed or hung)", () => {
  if (savedInputs.length === 0) it.skip("skipped: no saved input in test/fuzz/regressions", () => undefined);
  it.each(savedInputs)("%s", async (file) => {
    const name = file.replace(/-[0-9a-f]+\.hex$/, "");
    const target = TARGETS.find((t) => t.name === name);
    expect(target, `target ${name}`).toBeDefined();
    const hex = readFileSync(join(REGRESSIONS, file), "utf8")
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"))
      .join("");
    const input = Uint8Array.from(Buffer.from(hex, "hex"));
    const single = { ...target!, seeds: () => [input] };
    const stats = await fuzzTarget(single, 1, 1, 5000);
    expect(stats.failures.map((f) => f.message)).toEqual([]);
  });
});
