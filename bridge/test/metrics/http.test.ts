import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { parseMeterUrl, withoutSecrets } from "../../src/config/index.js";
import { type HttpServerHandle, startHttpServer } from "../../src/metrics/http.js";
import { pollerMetrics } from "../../src/metrics/poller-metrics.js";
import { type BridgeMetrics, createMetrics } from "../../src/metrics/registry.js";
import { initialRuntimeState } from "../../src/poller/types.js";

const CONTRACT = readFileSync(new URL("../../../docs/contracts.md", import.meta.url), "utf8");

/** Rows of the metrics table in docs/contracts.md: name -> type and label names. */
function contractMetrics(): Map<string, { type: string; labels: string[] }> {
  const metrics = new Map<string, { type: string; labels: string[] }>();
  for (const match of CONTRACT.matchAll(/^\| `(dlms_bridge_[a-z_]+)` \| ([^|]+) \|([^|]*)\|/gm)) {
    const labels = match[3]!.replace(/\(.*?\)/g, "").match(/[a-z_]+/g) ?? [];
    metrics.set(match[1]!, { type: match[2]!.trim().split(" ")[0]!, labels });
  }
  return metrics;
}

function observeEverything(metrics: BridgeMetrics): void {
  const meter = { meter: "m1" };
  const record = pollerMetrics(metrics);
  record.onPoll("m1", "ok", 200);
  record.onState("m1", initialRuntimeState("m1", { up: true, connected: true, lastSuccessTs: 1_700_000_000_000 }));
  record.onReading({ meter: "m1", ts: 1, values: { voltage: 230.1 }, units: { voltage: "V" } });
  record.onEvent("m1", "register-error", { key: "current", reason: "object-undefined" });
  record.onEvent("m1", "connect", {});
  record.onEvent("m1", "watchdog-restart", {});
  metrics.outboxDroppedTotal.inc(0);
  metrics.mqttConnected.set(1);
  metrics.mqttPublishesTotal.inc({ result: "ok" });
  record.onFrame("m1", "rx", 42);
  record.onDiscarded("m1", "bad-fcs");
  metrics.securityFailuresTotal.inc({ ...meter, check: "tag-mismatch" });
  const profile = { ...meter, profile: "1.0.99.1.0.255" };
  metrics.profileRowsTotal.inc(profile);
  metrics.profileBackfillLagSeconds.set(profile, 900);
  metrics.profileBackfillDuration.observe(profile, 1.5);
  metrics.meterClockDriftSeconds.set(meter, -0.4);
  metrics.observeOutbox({ pending: () => 7, oldestAgeMs: () => 2500 });
}

describe("metrics registry", () => {
  it("exposes every metric of docs/contracts.md with exactly its labels", async () => {
    const metrics = createMetrics();
    observeEverything(metrics);
    const text = await metrics.registry.metrics();
    const expected = contractMetrics();
    expect(expected.size).toBeGreaterThanOrEqual(19);
    for (const [name, { type, labels }] of expected) {
      expect(text, `type of ${name}`).toContain(`# TYPE ${name} ${type}\n`);
      const series = type === "histogram" ? `${name}_count` : name;
      const sample = text.split("\n").find((line) => line.startsWith(`${series}{`) || line.startsWith(`${series} `));
      expect(sample, `${name} in /metrics`).toBeDefined();
      const found = [...(sample!.match(/\{(.*)\}/)?.[1] ?? "").matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
      expect(found.sort(), `labels of ${name}`).toEqual([...labels].sort());
    }
    expect(text).toContain("dlms_bridge_process_cpu_user_seconds_total");
    expect(text).toMatch(/dlms_bridge_build_info\{version="\d+\.\d+\.\d+",node_version="v\d+[^"]*"\} 1/);
    expect(text).toContain("dlms_bridge_outbox_pending 7");
    expect(text).toContain("dlms_bridge_outbox_oldest_age_seconds 2.5");
  });
});

describe("startHttpServer", () => {
  let server: HttpServerHandle | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("serves /metrics, /healthz, /readyz (503 naming the failed check, then 200) and 404", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.meters.meter("m1").up = 1;
    const health = { mqttConnected: false, dbWritable: true };
    server = await startHttpServer({ port: 0, host: "127.0.0.1", metrics, health: () => health, meters: () => [] });
    const base = `http://127.0.0.1:${server.port}`;

    const scrape = await fetch(`${base}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get("content-type")).toContain("text/plain");
    expect(await scrape.text()).toContain('dlms_bridge_meter_up{meter="m1"} 1');

    expect(await (await fetch(`${base}/healthz`)).text()).toBe("ok\n");

    let ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.text()).toBe("not ready: mqtt broker not connected\n");
    health.dbWritable = false;
    expect(await (await fetch(`${base}/readyz`)).text()).toBe(
      "not ready: mqtt broker not connected; database not writable\n",
    );
    health.mqttConnected = true;
    health.dbWritable = true;
    ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);

    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
  });

  it("/api/meters serves meter state and never a password, even if the caller passes one", async () => {
    const meter = parseMeterUrl("MS1", "hdlc://10.0.0.5:4059?auth=low", { METER_MS1_PASSWORD: "hunter2-secret" });
    server = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => ({ mqttConnected: true, dbWritable: true }),
      meters: async () => [
        { id: meter.id, config: withoutSecrets(meter), up: true },
        { id: "careless", config: meter, nested: [{ token: "tok-secret", ok: 1 }] },
      ],
    });
    const response = await fetch(`http://127.0.0.1:${server.port}/api/meters`);
    expect(response.headers.get("content-type")).toBe("application/json");
    const body = await response.text();
    expect(body).not.toContain("hunter2-secret");
    expect(body).not.toContain("tok-secret");
    const meters = JSON.parse(body);
    expect(meters[0]).toMatchObject({ id: "ms1", up: true, config: { host: "10.0.0.5", port: 4059, auth: "low" } });
    expect(meters[1].nested).toEqual([{ ok: 1 }]);
  });

  it("answers 500 without the error detail when the meters source fails", async () => {
    server = await startHttpServer({
      port: 0,
      host: "127.0.0.1",
      metrics: createMetrics({ defaultMetrics: false }),
      health: () => ({ mqttConnected: true, dbWritable: true }),
      meters: () => {
        throw new Error("db exploded with password=xyz");
      },
    });
    const response = await fetch(`http://127.0.0.1:${server.port}/api/meters`);
    expect(response.status).toBe(500);
    expect(await response.text()).toBe("internal error\n");
  });
});
