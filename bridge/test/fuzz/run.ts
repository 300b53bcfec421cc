// `make fuzz`: every target of targets.ts, TOTAL inputs split evenly (default 1,000,000), then a summary with
// inputs/s per target. A crashing or hanging input is written to test/fuzz/regressions/<target>-<hash>.hex (replayed
// by fuzz.test.ts in `make test` from then on) and makes the run exit 1. Memory: RSS is sampled and must stay under
// --max-rss-mb. Usage: node --import tsx test/fuzz/run.ts [--total N] [--seed S] [--only name,name]
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { type FuzzFailure, fuzzTarget, toHexString } from "./engine.js";
import { TARGETS } from "./targets.js";

const REGRESSIONS = join(import.meta.dirname, "regressions");

const { values } = parseArgs({
  options: {
    total: { type: "string", default: "1000000" },
    seed: { type: "string", default: "1" },
    only: { type: "string" },
    "max-rss-mb": { type: "string", default: "1024" },
    "hang-ms": { type: "string", default: "2000" },
  },
});
const total = Number(values.total);
const seed = Number(values.seed);
const maxRssMb = Number(values["max-rss-mb"]);
const hangMs = Number(values["hang-ms"]);
const targets = values.only ? TARGETS.filter((t) => values.only!.split(",").includes(t.name)) : TARGETS;
const perTarget = Math.ceil(total / targets.length);
const BATCH = 10_000;

const failures: FuzzFailure[] = [];
let inputs = 0;
let peakRssMb = 0;
const started = performance.now();
console.log(`fuzz: ${targets.length} targets x ${perTarget} inputs, seed ${seed}`);
for (const target of targets) {
  let done = 0;
  let typed = 0;
  let ms = 0;
  let slowest = 0;
  // In batches, each with its own seed: memory is sampled between them and progress shows.
  for (let batch = 0; done < perTarget; batch++) {
    const n = Math.min(BATCH, perTarget - done);
    const stats = await fuzzTarget(target, n, seed * 100_003 + batch, hangMs);
    done += stats.inputs;
    typed += stats.typedErrors;
    ms += stats.ms;
    slowest = Math.max(slowest, stats.slowestMs);
    failures.push(...stats.failures);
    const rss = process.memoryUsage().rss / 2 ** 20;
    peakRssMb = Math.max(peakRssMb, rss);
    if (rss > maxRssMb) {
      console.error(`fuzz: ${target.name}: RSS ${rss.toFixed(0)} MB over --max-rss-mb ${maxRssMb}`);
      process.exit(1);
    }
  }
  inputs += done;
  const rate = done / (ms / 1000);
  console.log(
    `${target.name.padEnd(16)} ${String(done).padStart(9)} inputs  ${rate.toFixed(0).padStart(7)}/s  ` +
      `typed errors ${((100 * typed) / done).toFixed(1)}%  slowest ${slowest.toFixed(1)} ms`,
  );
}
const seconds = (performance.now() - started) / 1000;
console.log(
  `fuzz: ${inputs} inputs in ${seconds.toFixed(1)} s (${(inputs / seconds).toFixed(0)}/s), peak RSS ${peakRssMb.toFixed(0)} MB, ` +
    `${failures.filter((f) => f.kind === "crash").length} crashes, ${failures.filter((f) => f.kind === "hang").length} hangs`,
);
if (failures.length > 0) {
  mkdirSync(REGRESSIONS, { recursive: true });
  for (const f of failures) {
    const hash = createHash("sha1").update(f.input).digest("hex").slice(0, 12);
    const file = join(REGRESSIONS, `${f.target}-${hash}.hex`);
    writeFileSync(file, `# ${f.kind}: ${f.message.split("\n")[0]}\n${toHexString(f.input)}\n`);
    console.error(`${f.kind} in ${f.target} (input #${f.index}): ${f.message.split("\n")[0]}\n  saved as ${file}`);
  }
  process.exit(1);
}
