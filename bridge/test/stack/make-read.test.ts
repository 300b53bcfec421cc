// `make read METER=<id>` (issue 7 §4): while the bridge container runs it reads through the bridge
// (read --via-bridge inside the container, on the bridge's association); otherwise a direct association from the
// host. Compose is replaced by a script that records its arguments, so the recipe's choice is what is tested.
import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "./stack-files.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "make-read-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A `docker compose` stand-in: `ps` lists `services`, every other call is logged to calls.log. */
async function fakeCompose(services: string[]): Promise<string> {
  const script = join(dir, `compose-${services.length}.sh`);
  await writeFile(
    script,
    `#!/bin/sh\nif [ "$1" = ps ]; then printf '%s\\n' ${services.map((s) => `'${s}'`).join(" ")}; exit 0; fi\necho "$*" >> '${dir}/calls.log'\n`,
  );
  await chmod(script, 0o755);
  return script;
}

function make(args: string[]) {
  return spawnSync("make", ["--no-print-directory", ...args], { cwd: REPO, encoding: "utf8", timeout: 60_000 });
}

describe("make read", () => {
  it("reads through the running bridge container, passing OBIS= as --obis", async () => {
    const compose = await fakeCompose(["mosquitto", "bridge", "simulator"]);
    const r = make(["read", "METER=sim1", "OBIS=1-0:32.7.0 1/0.0.42.0.0.255/2", `COMPOSE=${compose}`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain("the bridge is running: reading sim1 through it");
    const calls = (await readFile(join(dir, "calls.log"), "utf8")).trim().split("\n");
    expect(calls).toEqual([
      "exec -T bridge node bin/dlms-bridge.js read --meter sim1 --via-bridge --obis 1-0:32.7.0 --obis 1/0.0.42.0.0.255/2",
    ]);
  });

  it("opens a direct association when the bridge is not running", async () => {
    const compose = await fakeCompose([]);
    // MAKE=true skips the build; the real CLI then runs the direct read, which needs METER_NOPE in .env.
    const r = make(["read", "METER=nope", `COMPOSE=${compose}`, "MAKE=true"]);
    expect(r.stdout + r.stderr).toMatch(/no METER_NOPE in \.env or the environment/);
    expect(r.stdout).not.toContain("through it");
  });
});
