// The `dlms-bridge` entry point as a real process (node + tsx): subcommand dispatch, usage, exit codes, and a
// `read` against the simulator running in this test process.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";

const BRIDGE_DIR = fileURLToPath(new URL("../..", import.meta.url));

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: BRIDGE_DIR });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ host: "127.0.0.1", port: 0, multipleReferences: true });
});
afterAll(() => sim.close());

describe("dlms-bridge entry point", () => {
  it("--help lists the commands and exits 0", async () => {
    const r = await cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: dlms-bridge <command>/);
    expect(r.stdout).toMatch(/^ {2}read /m);
  });

  it("an unknown command exits 2 with the usage", async () => {
    const r = await cli(["frobnicate"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });

  it("read against the simulator prints scaled values with units and exits 0", async () => {
    const port = String(sim.ports[0]);
    const r = await cli([
      "read",
      "--host",
      "127.0.0.1",
      "--port",
      port,
      "--obis",
      "1-0:32.7.0",
      "--obis",
      "1.0.14.7.0.255",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^1\.0\.32\.7\.0\.255 {2}2\d\d(\.\d+)? V$/);
    expect(lines[1]).toMatch(/^1\.0\.14\.7\.0\.255 {2}(49|50)(\.\d+)? Hz$/);
  });

  it("read of an object the simulator lacks exits 1 and still prints the others", async () => {
    const port = String(sim.ports[0]);
    const r = await cli([
      "read",
      "--host",
      "127.0.0.1",
      "--port",
      port,
      "--obis",
      "1.0.99.99.0.255",
      "--obis",
      "1.0.32.7.0.255",
      "--json",
    ]);
    expect(r.code).toBe(1);
    const [missing, voltage] = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(missing).toMatchObject({
      obis: "1.0.99.99.0.255",
      reason: expect.stringMatching(/object-undefined|read-write-denied/),
    });
    expect(voltage).toMatchObject({ obis: "1.0.32.7.0.255", unit: "V", type: expect.any(String) });
  });
});
