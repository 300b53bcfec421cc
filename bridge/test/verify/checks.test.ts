import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkBridgeHasNoToken,
  checkBridgeReady,
  checkComposeServices,
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

  it("flags every service `up` would start that has no container (e.g. no gateway), and unhealthy ones", async () => {
    // A stand-in for `docker compose`: `ps` lists two containers, `config --services` names four services.
    const fake = [
      "sh",
      "-c",
      `case "$1" in
         ps) printf '%s\\n' '{"Service":"bridge","State":"running","Health":"healthy"}' '{"Service":"mosquitto","State":"running","Health":"starting"}' ;;
         config) printf 'bridge\\nmosquitto\\ntb-gateway\\ngrafana\\n' ;;
       esac`,
      "compose",
    ];
    const r = await checkComposeServices({ ...opts, compose: true, composeCommand: fake });
    expect(r.ok).toBe(false);
    expect(r.detail).toBe("tb-gateway: no container, grafana: no container, mosquitto: running/starting");
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
