// E2E 4: one meter silent, one garbling every frame (bad FCS), one refusing the association and one with the wrong
// LLS password, next to two healthy meters (one of them behind LLS). The healthy meters stay on their 1 s grid;
// the bad ones show their breaker and failures in /metrics and /api/meters; no password (meter LLS or broker login)
// appears anywhere.
import { execFileSync } from "node:child_process";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../../src/sim/server.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import {
  apiMeters,
  type BridgeProcess,
  bridgeEnv,
  cleanupProcesses,
  cleanupRecorders,
  httpGet,
  inOrder,
  metricValue,
  missingSlots,
  type Recorder,
  record,
  type Sample,
  scrape,
  startBridge,
  tempDir,
  waitUntil,
} from "./harness.js";

const INTERVAL_MS = 1000;
const GOOD_PASSWORD = "Gx7-meterpass-LLS"; // the healthy LLS meter's (correct) password
const METER_PASSWORD = "Kq2-otherpass-LLS"; // what the "badpass" meter really expects
const WRONG_PASSWORD = "Zt9-wrongpass-LLS"; // what the bridge sends it
const MQTT_PASSWORD = "Wd4-broker-login-pw"; // the bridge's broker password (the broker refuses anonymous clients)
const READER = { username: "e2e-reader", password: "reader-pw" };
const SECRETS = [GOOD_PASSWORD, METER_PASSWORD, WRONG_PASSWORD, MQTT_PASSWORD];

const HEALTHY = ["plain", "secure"] as const;
const BAD = ["silent", "garbled", "refused", "badpass"] as const;
type MeterId = (typeof HEALTHY)[number] | (typeof BAD)[number];

const SIMULATORS: Record<MeterId, SimulatorOptions> = {
  plain: { seed: 1 },
  secure: { seed: 2, auth: "low", password: GOOD_PASSWORD },
  silent: { seed: 3, silence: true },
  garbled: { seed: 4, corruptFcsEvery: 1 },
  refused: { seed: 5, refuseAssociation: true },
  badpass: { seed: 6, auth: "low", password: METER_PASSWORD },
};

describe("dlms-bridge run: faulty meters next to healthy ones", () => {
  let broker: MosquittoHandle;
  const sims: RunningSimulator[] = [];
  let recorder: Recorder;
  let bridge: BridgeProcess;
  let httpPort: number;
  let dbPath: string;
  /** Breaker states seen per bad meter while scraping. */
  const seenOpen = new Set<string>();

  beforeAll(async () => {
    const authDir = await tempDir();
    const passwordFile = join(authDir, "passwd");
    await writeFile(passwordFile, "");
    execFileSync("mosquitto_passwd", ["-b", passwordFile, "bridge", MQTT_PASSWORD]);
    execFileSync("mosquitto_passwd", ["-b", passwordFile, READER.username, READER.password]);
    // Started as root, mosquitto drops to its own user, which must be able to read the file.
    await chmod(authDir, 0o755);
    await chmod(passwordFile, 0o644);
    broker = await startMosquitto({ extraConfig: `allow_anonymous false\npassword_file ${passwordFile}` });
    const ports = {} as Record<MeterId, number>;
    for (const [id, options] of Object.entries(SIMULATORS) as [MeterId, SimulatorOptions][]) {
      const sim = await startSimulator({ ...options, port: 0 });
      sims.push(sim);
      ports[id] = sim.ports[0]!;
    }
    recorder = await record(broker.url, ["dlms/#"], READER);
    dbPath = join(await tempDir(), "bridge.db");
    const url = (id: MeterId, query: string) => `hdlc://127.0.0.1:${ports[id]}?interval=1s&${query}`;
    bridge = await startBridge(
      bridgeEnv({
        mqttUrl: broker.url,
        dbPath,
        meters: {
          plain: url("plain", "timeout=2s"),
          secure: url("secure", "timeout=2s&client=1&auth=low"),
          silent: url("silent", "timeout=500ms"),
          garbled: url("garbled", "timeout=500ms"),
          refused: url("refused", "timeout=500ms"),
          badpass: url("badpass", "timeout=500ms&client=1&auth=low"),
        },
        extra: {
          METER_SECURE_PASSWORD: GOOD_PASSWORD,
          METER_BADPASS_PASSWORD: WRONG_PASSWORD,
          MQTT_USERNAME: "bridge",
          MQTT_PASSWORD,
          BREAKER_FAILURE_THRESHOLD: "2",
          BREAKER_OPEN_SECONDS: "2",
          LOG_LEVEL: "debug", // the most talkative level: secrets must stay out of it too
        },
      }),
    );
    httpPort = await bridge.httpPort();
    // Every bad meter trips its breaker (seen open in /metrics), then fails a half-open trial and trips again.
    await waitUntil(
      async () => {
        const samples = await scrape(httpPort);
        for (const id of BAD) {
          if (metricValue(samples, "dlms_bridge_meter_breaker_state", { meter: id }) === 2) seenOpen.add(id);
        }
        return BAD.every((id) => seenOpen.has(id) && reopenedAfterTrial(bridge, id));
      },
      "every bad meter's breaker to open, try half-open and open again",
      30_000,
      100,
    );
  }, 60_000);

  afterAll(async () => {
    await cleanupRecorders();
    await cleanupProcesses();
    await Promise.all(sims.map((s) => s.close()));
    await broker?.stop();
  });

  it("keeps the healthy meters on their 1 s grid while the bad ones fail", async () => {
    // Readings from now on were polled while every bad meter was failing (and retrying after its open period).
    const from = Date.now();
    await waitUntil(
      () => HEALTHY.every((id) => recorder.telemetry(id).filter((r) => r.ts >= from).length >= 4),
      "4 more readings of each healthy meter",
      15_000,
    );
    const meters = await apiMeters(httpPort);
    for (const id of HEALTHY) {
      const readings = recorder.telemetry(id);
      expect(inOrder(readings)).toBe(true);
      // Not one slot missed or skipped: polls of a meter never wait for another meter's timeouts or retries.
      expect(missingSlots(readings, INTERVAL_MS)).toBe(0);
      expect(meters.find((m) => m.id === id)).toMatchObject({
        up: true,
        breaker: "closed",
        lastError: null,
        skippedSlots: 0,
      });
      // Published promptly, not held up behind a meter that never answers (generous bound for a loaded machine).
      for (const m of recorder.messages.filter((msg) => msg.topic === `dlms/${id}/telemetry`)) {
        expect(m.at - (JSON.parse(m.payload) as { ts: number }).ts).toBeLessThan(5000);
      }
    }
    for (const id of BAD) expect(recorder.telemetry(id)).toEqual([]);
  }, 30_000);

  it("shows each bad meter's breaker, down state, failed connects and cause in /metrics and /api/meters", async () => {
    const samples: Sample[] = await scrape(httpPort);
    for (const id of BAD) {
      expect(metricValue(samples, "dlms_bridge_meter_up", { meter: id }), `${id} up`).toBe(0);
      expect(
        metricValue(samples, "dlms_bridge_meter_connects_total", { meter: id, result: "error" }),
        `${id} failed connects`,
      ).toBeGreaterThanOrEqual(3);
      expect(metricValue(samples, "dlms_bridge_meter_connects_total", { meter: id, result: "ok" })).toBe(0);
      expect(metricValue(samples, "dlms_bridge_meter_consecutive_failures", { meter: id })).toBeGreaterThanOrEqual(3);
      expect(metricValue(samples, "dlms_bridge_meter_breaker_state", { meter: id })).toBeGreaterThanOrEqual(1);
    }
    for (const id of HEALTHY) {
      expect(metricValue(samples, "dlms_bridge_meter_up", { meter: id })).toBe(1);
      expect(metricValue(samples, "dlms_bridge_meter_breaker_state", { meter: id })).toBe(0);
      expect(metricValue(samples, "dlms_bridge_frames_discarded_total", { meter: id })).toBe(0);
    }
    // Only the garbling meter's frames are thrown away.
    expect(metricValue(samples, "dlms_bridge_frames_discarded_total", { meter: "garbled" })).toBeGreaterThan(0);
    for (const id of ["silent", "refused", "badpass"]) {
      expect(metricValue(samples, "dlms_bridge_frames_discarded_total", { meter: id })).toBe(0);
    }

    const meters = new Map((await apiMeters(httpPort)).map((m) => [m.id, m]));
    const causes: Record<(typeof BAD)[number], RegExp> = {
      silent: /timeout/i,
      garbled: /timeout/i,
      refused: /rejected/i,
      badpass: /authentication-failure/i,
    };
    for (const id of BAD) {
      const m = meters.get(id)!;
      expect(m, id).toMatchObject({ up: false, connected: false });
      expect(["open", "half-open"]).toContain(m.breaker);
      expect(m.lastSuccess).toBeNull();
      expect(m.lastError, `lastError of ${id}`).toMatch(causes[id]);
    }
    expect(meters.get("refused")!.lastError).not.toMatch(/authentication/i);
  });

  it("keeps each bad meter's failures and breaker moves in the events table, and none for the healthy ones", () => {
    const db = new Database(dbPath, { readonly: true });
    let events: { meter: string; kind: string; detail: string }[];
    try {
      events = db.prepare("SELECT meter, kind, detail FROM events ORDER BY id").all() as typeof events;
    } finally {
      db.close();
    }
    for (const id of BAD) {
      const mine = events.filter((e) => e.meter === id);
      const moves = mine.filter((e) => e.kind === "breaker").map((e) => JSON.parse(e.detail) as { to: string });
      expect(moves.map((m) => m.to).slice(0, 3), `breaker moves of ${id}`).toEqual(["open", "half-open", "open"]);
      expect(
        mine.some((e) => e.kind === "connect-failed"),
        `connect-failed of ${id}`,
      ).toBe(true);
      expect(mine.some((e) => e.kind === "connect")).toBe(false);
    }
    for (const id of HEALTHY) {
      const kinds = events.filter((e) => e.meter === id).map((e) => e.kind);
      expect(kinds, `events of ${id}`).toEqual(["connect"]);
    }
  });

  it("never shows a meter or broker password in /metrics, /api/meters, the logs or the database", async () => {
    const metrics = await httpGet(httpPort, "/metrics");
    const api = await httpGet(httpPort, "/api/meters");
    const database = await Promise.all(
      ["", "-wal"].map((suffix) =>
        readFile(`${dbPath}${suffix}`).then(
          (b) => b.toString("latin1"),
          () => "",
        ),
      ),
    );
    // The logs really are talkative (debug), so their silence about passwords means something.
    expect(bridge.logs().length).toBeGreaterThan(50);
    for (const [where, text] of [
      ["/metrics", metrics],
      ["/api/meters", api],
      ["stdout", bridge.stdout],
      ["stderr", bridge.stderr],
      ["database", database.join("")],
    ] as const) {
      for (const secret of SECRETS) expect(text.includes(secret), `a password in ${where}`).toBe(false);
    }
  });
});

/** The bridge's log shows the breaker of `meter` going open -> half-open -> open (a failed trial). */
function reopenedAfterTrial(bridge: BridgeProcess, meter: string): boolean {
  const transitions = bridge
    .logs()
    .filter((l) => l.meter === meter && l.event === "breaker")
    .map((l) => `${String(l.from)}>${String(l.to)}`);
  const trial = transitions.indexOf("open>half-open");
  return transitions[0] === "closed>open" && trial > 0 && transitions.slice(trial + 1).includes("half-open>open");
}
