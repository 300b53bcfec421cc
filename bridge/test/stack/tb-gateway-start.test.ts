// How the tb-gateway container starts, checked without Docker: the official image's start script (3.8.3,
// docker/Dockerfile in thingsboard/thingsboard-gateway) copies the image's default configuration over
// /thingsboard_gateway/config unless .firstlaunch exists there, and runs the gateway as a child of `sh`, which no
// `docker stop` signal ever reaches. docker-compose.yml must bypass that script, keep the tracked configuration
// read-only, and exec the gateway so that it is PID 1 and gets SIGINT. The entrypoint is run here for real with sh.
import { spawn } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type ComposeService, loadCompose, mountsOf, repoPath } from "./stack-files.js";

/** The image's CMD and what its start script finally runs (docker/Dockerfile of 3.8.3; the same in 3.7.0 and 3.8.0). */
const IMAGE_CMD = ["/bin/sh", "/start-gateway.sh"];
const IMAGE_CONFIG_DIR = "/thingsboard_gateway/config";
const IMAGE_GATEWAY_COMMAND = "python /thingsboard_gateway/tb_gateway.py";

const compose = loadCompose();
const gateway = compose.services["tb-gateway"] as ComposeService & {
  entrypoint?: string[];
  stop_signal?: string;
  stop_grace_period?: string;
};

/**
 * The image's start-script rule: with no .firstlaunch in the config folder, the defaults overwrite it. It runs only
 * when the container's command is the image's CMD, which Docker uses only when the service sets neither an
 * entrypoint nor a command (an entrypoint set by the service also clears the image's CMD).
 */
function imageStartScriptRuns(service: { entrypoint?: unknown; command?: unknown }): boolean {
  if (service.entrypoint !== undefined) return false;
  const command = service.command === undefined ? IMAGE_CMD : service.command;
  return JSON.stringify(command) === JSON.stringify(IMAGE_CMD);
}

/** The entrypoint's shell script as the container's sh sees it (compose turns `$$` into `$`). */
function entrypointScript(): string {
  const entrypoint = gateway.entrypoint ?? [];
  expect(entrypoint.slice(0, 2)).toEqual(["/bin/sh", "-ec"]);
  return entrypoint[2]!.replaceAll("$$", "$");
}

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Runs the entrypoint with the container's paths mapped into a temporary root and `python` replaced by a stand-in
 * that does what 3.8.3 does to its config folder at start (writes an "id" into the connector JSON and
 * connected_devices.json) and records its pid and arguments.
 */
async function runEntrypoint(root: string): Promise<{ shPid: number; gatewayPid: number; argv: string[] }> {
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(
    join(bin, "python"),
    `#!/bin/sh
echo "$$" > "${root}/gateway.pid"
printf '%s\\n' "$@" > "${root}/gateway.argv"
cfg="${root}/thingsboard_gateway/config"
sed -i 's/^{/{"id": "0b3c9a6e-0000-4000-8000-000000000001",/' "$cfg/mqtt.json"
echo '{"sim1": {"connector_id": "x", "connector_name": "DLMS bridge (Mosquitto)", "device_type": "DLMS meter"}}' > "$cfg/connected_devices.json"
`,
  );
  chmodSync(join(bin, "python"), 0o755);
  const script = entrypointScript()
    .replaceAll("/tb-gateway-config", join(root, "tracked"))
    .replaceAll("/thingsboard_gateway", join(root, "thingsboard_gateway"));
  const child = spawn("/bin/sh", ["-ec", script], {
    env: { PATH: `${bin}:/usr/bin:/bin` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += String(d);
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(stderr).toBe("");
  expect(code).toBe(0);
  return {
    shPid: child.pid!,
    gatewayPid: Number(readFileSync(join(root, "gateway.pid"), "utf8").trim()),
    argv: readFileSync(join(root, "gateway.argv"), "utf8").trim().split("\n"),
  };
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
}

describe("tb-gateway start-up (docker-compose.yml against the official image's start script)", () => {
  it("pins 3.8.3, the first release that talks plain MQTT to ThingsBoard", () => {
    expect(gateway.image).toBe("thingsboard/tb-gateway:3.8.3");
  });

  it("bypasses the image's start script, so its first-launch copy never runs", () => {
    expect(imageStartScriptRuns({})).toBe(true); // the rule itself: no entrypoint, no command = the image's script
    expect(imageStartScriptRuns({ command: IMAGE_CMD })).toBe(true);
    expect(imageStartScriptRuns(gateway)).toBe(false);
    expect(entrypointScript()).not.toContain("start-gateway.sh");
  });

  it("mounts the tracked config read-only outside the gateway's config folder, which is a named volume", () => {
    const mounts = mountsOf(gateway);
    const tracked = mounts.filter((m) => m.bind && m.source.replace(/\/$/, "") === "./tb-gateway/config");
    expect(tracked).toHaveLength(1);
    expect(tracked[0]!.readOnly).toBe(true);
    expect(tracked[0]!.target).not.toBe(IMAGE_CONFIG_DIR);
    expect(entrypointScript()).toContain(`${tracked[0]!.target}/`);
    const runtime = mounts.find((m) => m.target === IMAGE_CONFIG_DIR);
    expect(runtime).toMatchObject({ bind: false });
    expect(compose.volumes).toHaveProperty(runtime!.source);
    // No other writable bind mount of anything in the repository.
    expect(mounts.filter((m) => m.bind && !m.readOnly)).toEqual([]);
  });

  it("stops the gateway with SIGINT, the only signal it handles, with time to send its disconnects", () => {
    expect(gateway.stop_signal).toBe("SIGINT");
    expect(Number.parseInt(gateway.stop_grace_period ?? "10", 10)).toBeGreaterThanOrEqual(10);
  });

  it("copies the tracked config into the runtime folder, keeps the gateway's state and leaves the tracked folder as it was", async () => {
    const root = mkdtempSync(join(tmpdir(), "tb-gw-start-"));
    dirs.push(root);
    const tracked = join(root, "tracked");
    const runtime = join(root, "thingsboard_gateway", "config");
    cpSync(repoPath("tb-gateway", "config"), tracked, { recursive: true });
    // A stale state file left in the tracked folder by an old read-write mount must not reach the gateway.
    writeFileSync(join(tracked, "connected_devices.json"), '{"stale": {}}');
    // The named volume after an earlier run: the image's defaults, the gateway's state, an older mqtt.json with id.
    mkdirSync(runtime, { recursive: true });
    writeFileSync(join(runtime, "tb_gateway.json"), '{"connectors": []}');
    writeFileSync(join(runtime, "mqtt.json"), '{"id": "old", "broker": {}}');
    writeFileSync(join(runtime, "connected_devices.json"), '{"sim2": {}}');
    const before = snapshot(tracked);

    const { shPid, gatewayPid, argv } = await runEntrypoint(root);

    expect(gatewayPid, "the gateway replaces sh (exec): PID 1 in the container").toBe(shPid);
    expect(`python ${argv.join(" ").replaceAll(root, "")}`).toBe(IMAGE_GATEWAY_COMMAND);
    expect(snapshot(tracked)).toEqual(before);
    const after = snapshot(runtime);
    for (const f of ["tb_gateway.json", "logs.json"]) expect(after[f], f).toBe(before[f]);
    const { id, ...mqtt } = JSON.parse(after["mqtt.json"]!) as Record<string, unknown>;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(mqtt).toEqual(JSON.parse(before["mqtt.json"]!));
    expect(after["connected_devices.json"]).toContain('"sim1"'); // written by the gateway, not the stale tracked copy
    expect(after).toHaveProperty(".firstlaunch"); // the image's script, if ever run by hand, keeps the config too
  });
});
