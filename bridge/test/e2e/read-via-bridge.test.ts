// Issue 7 §4: a technician's read while the stack runs. `dlms-bridge run` polls a simulated LLS meter over TCP;
// POST /api/meters/<id>/read and `read --via-bridge` read objects on the bridge's own association between polls
// (the simulator sees one association in all), while the polls go on (counted).
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runRead } from "../../src/cli/read.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  apiMeters,
  type BridgeProcess,
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  type Recorder,
  readingsCounted,
  record,
  scrape,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

const PASSWORD = "Tq8-lls-meter-pw";
const INTERVAL_MS = 500;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

async function postRead(port: number, meter: string, body: unknown) {
  const response = await fetch(`http://127.0.0.1:${port}/api/meters/${meter}/read`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

describe("reads through the running bridge", () => {
  let broker: MosquittoHandle;
  let sim: RunningSimulator;
  let recorder: Recorder;
  let bridge: BridgeProcess;
  let httpPort: number;
  const answers: string[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    sim = await startSimulator({ port: 0, count: 1, seed: 11, auth: "low", password: PASSWORD });
    const deadPort = await freePort();
    recorder = await record(broker.url);
    bridge = await startBridge(
      bridgeEnv({
        mqttUrl: broker.url,
        dbPath: join(await tempDir(), "bridge.db"),
        meters: {
          sim: `hdlc://127.0.0.1:${sim.ports[0]}?client=1&auth=low&interval=500ms&timeout=5s`,
          dead: `hdlc://127.0.0.1:${deadPort}?interval=500ms&timeout=1s`,
        },
        extra: { METER_SIM_PASSWORD: PASSWORD },
      }),
    );
    httpPort = await bridge.httpPort();
    await waitUntil(() => recorder.telemetry("sim").length >= 3, "3 readings of sim", 30_000);
  }, 60_000);

  afterAll(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await sim?.close();
    await broker?.stop();
  });

  it("reads objects on the live association while the polls go on", async () => {
    const before = readingsCounted(await scrape(httpPort), "sim");
    const startedAt = Date.now();
    const objects = ["1-0:32.7.0", "1/0.0.42.0.0.255", "3/1.0.32.7.0.255/3", "1-0:1.8.0"];
    let reads = 0;
    while (Date.now() - startedAt < 4_000) {
      // Two at a time: they queue on the meter's session, one after the other, between polls.
      const pair = await Promise.all([postRead(httpPort, "sim", { obis: objects }), postRead(httpPort, "sim", {})]);
      for (const r of pair) {
        answers.push(r.text);
        expect(r.status).toBe(200);
      }
      reads += 2;
      const [named, configured] = pair.map((r) => r.body.objects as Record<string, unknown>[]);
      expect(named).toHaveLength(4);
      expect(named![0]).toMatchObject({ obis: "1.0.32.7.0.255", classId: 3, attributeId: 2, unit: "V" });
      expect(named![0]!.value as number).toBeGreaterThan(100);
      expect(named![0]!.value as number).toBeLessThan(400);
      expect(named![1]).toMatchObject({ obis: "0.0.42.0.0.255", classId: 1, type: "octet-string" });
      expect(named![2]).toMatchObject({ obis: "1.0.32.7.0.255", attributeId: 3, type: "structure" });
      expect(named![3]).toMatchObject({ obis: "1.0.1.8.0.255", unit: "Wh" });
      expect(configured!.map((o) => o.obis)).toEqual([
        "1.0.32.7.0.255",
        "1.0.31.7.0.255",
        "1.0.14.7.0.255",
        "1.0.1.7.0.255",
        "1.0.1.8.0.255",
      ]);
      await new Promise((resolve) => setTimeout(resolve, 100)); // paced: a technician, not a benchmark
    }
    const elapsed = Date.now() - startedAt;
    const polls = readingsCounted(await scrape(httpPort), "sim") - before;
    console.log(
      `on-demand reads: ${reads} in ${elapsed} ms; polls in the same time: ${polls} (grid: ${Math.floor(elapsed / INTERVAL_MS)})`,
    );
    expect(reads).toBeGreaterThanOrEqual(4);
    expect(polls).toBeGreaterThanOrEqual(Math.floor(elapsed / INTERVAL_MS / 2));
    // Every read rode the bridge's association: the simulator saw exactly one.
    expect(sim.meters[0]!.stats.associations).toBe(1);
    const [state] = (await apiMeters(httpPort)).filter((m) => m.id === "sim");
    expect(state).toMatchObject({ up: true, connected: true, consecutiveFailures: 0 });
  });

  it("read --via-bridge prints the values like a direct read; errors come back as the bridge says them", async () => {
    const url = `http://127.0.0.1:${httpPort}`;
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const code = await runRead(
      ["--meter", "sim", "--bridge-url", url, "--obis", "1-0:32.7.0", "--obis", "1/0.0.42.0.0.255"],
      io,
    );
    expect({ code, err }).toEqual({ code: 0, err: [] });
    expect(out[0]).toMatch(/^1\.0\.32\.7\.0\.255 {2}\d+(\.\d+)? V$/);
    expect(out[1]).toMatch(/^0\.0\.42\.0\.0\.255 {2}\S+/);

    out.length = 0;
    expect(
      await runRead(["--meter", "sim", "--via-bridge", "--bridge-url", url, "--json", "--obis", "1.0.94.7.7.255"], io),
    ).toBe(1);
    expect(JSON.parse(out[0]!)).toEqual({
      obis: "1.0.94.7.7.255",
      classId: 3,
      attributeId: 2,
      error: "attr 2: data-access-result object-undefined (4)",
      reason: "object-undefined",
    });

    err.length = 0;
    expect(await runRead(["--meter", "nope", "--bridge-url", url], io)).toBe(1);
    expect(err).toEqual(["error: bridge: no meter 'nope' (meters: dead, sim)"]);
    answers.push(...out, ...err);
  });

  it("answers 503 with the last error for a meter that has no association", async () => {
    await waitUntil(
      async () => (await apiMeters(httpPort)).some((m) => m.id === "dead" && m.lastError),
      "dead's first failure",
    );
    const r = await postRead(httpPort, "dead", {});
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ connected: false });
    expect(String(r.body.error)).toMatch(
      /^meter 'dead' (has no live association|is offline \(breaker open until .*\))$/,
    );
    expect(String(r.body.lastError)).toContain("refused");
    answers.push(r.text);
    expect(answers.join("\n")).not.toContain(PASSWORD);
  });
});
