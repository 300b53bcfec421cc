import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const loader = fileURLToPath(new URL("../../src/config/load.ts", import.meta.url));

/** Runs loadConfigOrExit(env) in a child process (it calls process.exit). */
function runLoader(env: Record<string, string>) {
  const script = `const { loadConfigOrExit } = await import(${JSON.stringify(loader)});
    const config = loadConfigOrExit(process.env);
    console.log(JSON.stringify(config.meters.map((m) => m.id)));`;
  return spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
}

describe("loadConfigOrExit", () => {
  it("prints every error on stderr and exits with status 2, without the password", () => {
    const result = runLoader({ METER_A: "hdlc://h:abc?auth=low", METER_B: "serial://h:1", MQTT_PASSWORD: "pw-secret" });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("METER_A: port 'abc' is not a number");
    expect(result.stderr).toContain("METER_A: auth=low needs a password");
    expect(result.stderr).toContain("METER_B: transport 'serial' is not supported");
    expect(result.stderr).toContain("MQTT_PASSWORD: is set but MQTT_USERNAME is not");
    expect(result.stderr).not.toContain("pw-secret");
  });

  it("returns the configuration when it is valid", () => {
    const result = runLoader({ METER_B: "hdlc://h:1", METER_A: "wrapper://h:2" });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(["a", "b"]);
  });
});

describe("dlms-bridge run --env", () => {
  const main = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
  it("exits 2 naming a missing env file given on the command line", () => {
    const result = spawnSync(process.execPath, ["--import", "tsx", main, "run", "--env", "/nonexistent.env"], {
      env: { PATH: process.env.PATH ?? "", METER_A: "hdlc://127.0.0.1:1" },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("cannot read env file '/nonexistent.env' (ENOENT)");
    expect(result.stdout).not.toContain("bridge started");
  });
});
