import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  analyseGatewayLog,
  checkBridgeHasNoToken,
  checkBridgeReady,
  checkMetersRead,
  checkOutboxNotGrowing,
  formatResults,
  metricValue,
  type VerifyOptions,
} from "../../src/verify/checks.js";

const NOW = 1_800_000_000_000;
let server: Server;
let pending = 3;
let opts: VerifyOptions;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === "/readyz") return res.writeHead(503).end("mqtt: not connected");
    if (req.url === "/metrics")
      return res.end(`# TYPE dlms_bridge_outbox_pending gauge\ndlms_bridge_outbox_pending ${pending++ * 10}\n`);
    if (req.url === "/api/meters")
      return res.end(
        JSON.stringify([
          { id: "fresh", intervalMs: 10_000, lastSuccess: NOW - 5_000 },
          { id: "stale", intervalMs: 10_000, lastSuccess: NOW - 31_000 },
          { id: "never", intervalMs: 10_000, lastSuccess: null, lastError: "no answer to SNRM" },
        ]),
      );
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  opts = {
    bridgeUrl: `http://127.0.0.1:${port}`,
    mqttUrl: "mqtt://127.0.0.1:1",
    compose: false,
    composeCommand: [],
    sinceMinutes: 10,
    outboxSampleMs: 10,
    env: {},
  };
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("verify checks", () => {
  it("judges each meter by its own interval and names the last error", async () => {
    const results = await checkMetersRead(opts, NOW);
    expect(results.map((r) => [r.name.split(" ")[1], r.ok])).toEqual([
      ["fresh", true],
      ["stale", false],
      ["never", false],
    ]);
    expect(results[2]!.detail).toContain("no answer to SNRM");
  });

  it("reports a not-ready bridge with the reason it gave", async () => {
    const r = await checkBridgeReady(opts);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain("503 mqtt: not connected");
  });

  it("flags a growing outbox", async () => {
    pending = 50;
    const r = await checkOutboxNotGrowing(opts);
    expect(r.ok).toBe(false);
    expect(r.detail).toBe("pending 500 -> 510 over 0.01 s");
  });

  it("finds code-7 disconnects and delivery lines in a gateway log", () => {
    const log = [
      "2026-11-26 10:00:01 - |INFO| - [mqtt_connector.py] - Successfully converted message from topic dlms/sim1/telemetry",
      "2026-11-26 10:00:02 - |WARNING| - [tb_client.py] - MQTT disconnected, code 7",
      "2026-11-26 10:00:03 - |INFO| - [tb_gateway_service.py] - Data sent to ThingsBoard",
    ].join("\n");
    const a = analyseGatewayLog(log);
    expect(a.delivered).toBe(2);
    expect(a.disconnects).toHaveLength(1);
    expect(analyseGatewayLog("Data sent to ThingsBoard\nconnected with result code 0").disconnects).toEqual([]);
  });

  it("names a token variable in the bridge environment but never prints its value", async () => {
    const r = await checkBridgeHasNoToken({ ...opts, env: { TB_GW_ACCESS_TOKEN: "s3cr3t-token", PATH: "/bin" } });
    expect(r.ok).toBe(false);
    expect(formatResults([r])).toContain("TB_GW_ACCESS_TOKEN");
    expect(formatResults([r])).not.toContain("s3cr3t-token");
    expect((await checkBridgeHasNoToken({ ...opts, env: { MQTT_URL: "mqtt://x" } })).ok).toBe(true);
  });

  it("parses metric samples with and without labels", () => {
    expect(metricValue('x_total{a="b"} 4\nx 2\n', "x")).toBe(2);
    expect(metricValue('x{a="b"} 4\n', "x")).toBe(4);
    expect(metricValue("xy 4\n", "x")).toBeUndefined();
  });
});
