// E2E: a METER_<ID> line with auth=hls-gmac is polled like any other meter. The invocation counter continues
// upward across a SIGKILL of the bridge (the simulator refuses any reused counter, so readings after the restart
// prove it), a meter with a wrong key trips its breaker and is counted by check, and no key set here appears in
// the logs, /metrics, /api/meters, MQTT, the SQLite files or a `read --trace`.
import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { fromHex } from "../../src/dlms/codec/hex.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  apiMeters,
  BRIDGE_DIR,
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  httpGet,
  metricValue,
  record,
  scrape,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

const AUTH_KEY = "5A1B2C3D4E5F60718293A4B5C6D7E8F9";
const BLOCK_KEY = "0F1E2D3C4B5A69788796A5B4C3D2E1F0";
const WRONG_AUTH_KEY = "C0FFEE00C0FFEE00C0FFEE00C0FFEE11";
const SECRETS = [AUTH_KEY, BLOCK_KEY, WRONG_AUTH_KEY];
const run = promisify(execFile);

function reservedUntil(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    const row = db.prepare("SELECT reserved_until FROM invocation_counters WHERE meter = 'secure'").get() as
      | { reserved_until: number }
      | undefined;
    return row?.reserved_until ?? 0;
  } finally {
    db.close();
  }
}

/** A key serialised by JSON.stringify(Uint8Array): {"0":90,"1":27,...}, and as a number list. */
function jsonForms(secret: string): string[] {
  const bytes = Array.from(Buffer.from(secret, "hex"));
  return [JSON.stringify(Uint8Array.from(bytes)).slice(1, 40), bytes.slice(0, 6).join(",")];
}

/** Every way a key could be written: as given, lower case, as raw bytes (in binary files), as JSON numbers. */
function expectNoSecret(where: string, text: string | Buffer): void {
  const plain = typeof text === "string" ? text : text.toString("latin1");
  for (const secret of SECRETS) {
    for (const form of jsonForms(secret)) expect(plain.includes(form), `${where} holds a key as numbers`).toBe(false);
    const hay = typeof text === "string" ? text.toUpperCase() : text;
    if (typeof hay === "string") expect(hay.includes(secret), `${where} holds a key`).toBe(false);
    else {
      expect(hay.includes(Buffer.from(secret, "hex")), `${where} holds a key's bytes`).toBe(false);
      expect(hay.toString("latin1").toUpperCase().includes(secret), `${where} holds a key in hex`).toBe(false);
    }
  }
}

describe("dlms-bridge run with auth=hls-gmac", () => {
  let broker: MosquittoHandle | undefined;
  let sims: RunningSimulator[] = [];

  afterEach(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await Promise.all(sims.map((s) => s.close()));
    sims = [];
    await broker?.stop();
  });

  it("polls, survives a SIGKILL without reusing a counter, counts a wrong key, and leaks no key", async () => {
    broker = await startMosquitto();
    const hls = { authKey: fromHex(AUTH_KEY), blockKey: fromHex(BLOCK_KEY) };
    const good = await startSimulator({ port: 0, seed: 5, auth: "hls-gmac", hls });
    const bad = await startSimulator({ port: 0, seed: 6, auth: "hls-gmac", hls });
    sims = [good, bad];
    const recorder = await record(broker.url);
    const dir = await tempDir();
    const dbPath = join(dir, "bridge.db");
    const url = (port: number, extra = "") =>
      `hdlc://127.0.0.1:${port}?client=1&auth=hls-gmac&interval=1s&timeout=2s${extra}`;
    const env = bridgeEnv({
      mqttUrl: broker.url,
      dbPath,
      meters: { secure: url(good.ports[0]!, "&security=auth-enc&system_title=BRIDGE01"), badkey: url(bad.ports[0]!) },
      extra: {
        METER_SECURE_AUTH_KEY: AUTH_KEY,
        METER_SECURE_BLOCK_KEY: BLOCK_KEY,
        METER_BADKEY_AUTH_KEY: WRONG_AUTH_KEY,
        METER_BADKEY_BLOCK_KEY: BLOCK_KEY,
        BREAKER_FAILURE_THRESHOLD: "2",
        BREAKER_OPEN_SECONDS: "3",
        LOG_LEVEL: "debug",
      },
    });

    const first = await startBridge(env);
    const firstPort = await first.httpPort();
    await waitUntil(() => recorder.telemetry("secure").length >= 3, "3 readings of the HLS meter", 20_000);
    const meterCounter = good.meters[0]!.security.clientCounters;
    const seenBeforeKill = meterCounter.get(1)!;
    const metricsBefore = await httpGet(firstPort, "/metrics");
    const apiBefore = JSON.stringify(await apiMeters(firstPort));
    first.child.kill("SIGKILL");
    await first.exited;
    const reserved = reservedUntil(dbPath);
    expect(reserved).toBeGreaterThan(seenBeforeKill);

    const second = await startBridge(env);
    const secondPort = await second.httpPort();
    const readingsBefore = recorder.telemetry("secure").length;
    await waitUntil(
      () => recorder.telemetry("secure").length >= readingsBefore + 3,
      "3 readings after the restart",
      20_000,
    );
    // The restarted bridge began at the reserved ceiling: above anything the killed one could have sent.
    expect(meterCounter.get(1)!).toBeGreaterThanOrEqual(reserved);
    expect(good.meters[0]!.stats.rejectedAssociations).toBe(0);

    // The wrong key: its own check in the metric, its breaker open, the meter not hammered.
    const samples = await scrape(secondPort);
    await waitUntil(
      async () => metricValue(await scrape(secondPort), "dlms_bridge_meter_breaker_state", { meter: "badkey" }) === 2,
      "the bad-key meter's breaker to open",
      15_000,
    );
    expect(
      metricValue(await scrape(secondPort), "dlms_bridge_security_failures_total", {
        meter: "badkey",
        check: "authentication-key",
      }),
    ).toBeGreaterThanOrEqual(1);
    const api = await apiMeters(secondPort);
    expect(api.find((m) => m.id === "badkey")?.lastError).toMatch(/authentication key/);
    expect(bad.meters[0]!.stats.rejectedAssociations).toBeLessThanOrEqual(6);
    expect(samples.length).toBeGreaterThan(0);

    // The leak check, everywhere the keys could end up.
    second.child.kill("SIGTERM");
    await second.exited;
    // A technician read with a trace (the bridge is gone: a meter serves one association at a time), keys from the environment (never on the command line).
    const read = await run(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "read",
        "--host",
        "127.0.0.1",
        "--port",
        String(good.ports[0]),
        "--client",
        "1",
        "--auth",
        "hls-gmac",
        "--obis",
        "1.0.32.7.0.255",
        "--trace",
      ],
      {
        cwd: BRIDGE_DIR,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", DLMS_AUTH_KEY: AUTH_KEY, DLMS_BLOCK_KEY: BLOCK_KEY },
      },
    );
    expect(read.stderr).toMatch(/glo-get-request auth-enc IC=\d+ \[GET\.req/);
    expect(read.stderr).toMatch(/glo-get-response auth-enc IC=\d+ \[GET\.res/);

    const everything: [string, string | Buffer][] = [
      ["first bridge stdout", first.stdout],
      ["first bridge stderr", first.stderr],
      ["second bridge stdout", second.stdout],
      ["second bridge stderr", second.stderr],
      ["metrics", metricsBefore],
      ["/api/meters", apiBefore],
      ["/api/meters after the restart", JSON.stringify(api)],
      ["MQTT", JSON.stringify(recorder.messages)],
      ["read --trace", read.stdout + read.stderr],
    ];
    for (const file of await readdir(dir)) everything.push([file, await readFile(join(dir, file))]);
    expect(everything.filter(([w]) => w.startsWith("bridge.db")).length).toBeGreaterThanOrEqual(1);
    for (const [where, text] of everything) expectNoSecret(where, text);
  }, 90_000);
});
