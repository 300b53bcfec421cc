// POST /api/meters/<id>/read on the real HTTP server (loopback TCP) with a scripted reader: bounds, the status of
// each refusal, errors naming the culprit, and no secret in any answer.
import { afterEach, describe, expect, it } from "vitest";
import type { ObjectRef } from "../../src/client/object-ref.js";
import { type HttpServerHandle, startHttpServer } from "../../src/metrics/http.js";
import { READ_LIMITS } from "../../src/metrics/read-endpoint.js";
import { createMetrics } from "../../src/metrics/registry.js";
import { OnDemandReadError, type OnDemandResult } from "../../src/poller/on-demand.js";
import type { MeterRuntimeState } from "../../src/poller/types.js";

const SECRET = "Lls-Pa55-w0rd";
let server: HttpServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const state: MeterRuntimeState = {
  meter: "down",
  up: false,
  connected: false,
  breaker: "open",
  consecutiveFailures: 5,
  lastError: "TimeoutError: no answer to SNRM",
  lastErrorTs: 1_700_000_000_000,
  skippedSlots: 0,
  watchdogRestarts: 0,
};

async function serve() {
  const calls: { meter: string; objects: ObjectRef[] | undefined; deadlineMs: number }[] = [];
  server = await startHttpServer({
    port: 0,
    host: "127.0.0.1",
    metrics: createMetrics(),
    health: () => ({ mqttConnected: true, dbWritable: true }),
    meters: () => [
      { id: "sim1", password: SECRET },
      { id: "down", password: SECRET },
    ],
    readMeter: async (meter, objects, deadlineMs): Promise<OnDemandResult> => {
      calls.push({ meter, objects, deadlineMs });
      if (meter === "down") throw new OnDemandReadError("unavailable", "meter 'down' is offline (breaker open)", state);
      if (meter === "busy") throw new OnDemandReadError("busy", "meter 'busy' was busy until the read's deadline");
      if (meter === "slow") throw new OnDemandReadError("timeout", "meter 'slow': TimeoutError: no answer to GET");
      if (meter !== "sim1") throw new OnDemandReadError("unknown-meter", `no meter '${meter}'`);
      const list = objects ?? [{ obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 }];
      const big = objects?.some((o) => o.obis === "0.0.99.98.0.255");
      return {
        meter,
        ts: 1_700_000_000_000,
        objects: list.map((o) => ({
          ...o,
          value: big ? "x".repeat(READ_LIMITS.maxResponseBytes) : 230.1,
          type: "long-unsigned",
        })),
      };
    },
  });
  return { port: server.port, calls };
}

async function post(port: number, path: string, body: string, contentType = "application/json") {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    headers: { "Content-Type": contentType },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

describe("POST /api/meters/<id>/read", () => {
  it("reads the objects named in the body, in the read --obis syntax", async () => {
    const { port, calls } = await serve();
    const r = await post(
      port,
      "/api/meters/sim1/read",
      JSON.stringify({ obis: ["1-0:32.7.0", "1/0.0.42.0.0.255/2"], deadlineMs: 5000 }),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      meter: "sim1",
      objects: [
        { obis: "1.0.32.7.0.255", classId: 3, value: 230.1 },
        { obis: "0.0.42.0.0.255", classId: 1 },
      ],
    });
    expect(calls).toEqual([
      {
        meter: "sim1",
        objects: [
          { obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 },
          { obis: "0.0.42.0.0.255", classId: 1, attributeId: 2 },
        ],
        deadlineMs: 5000,
      },
    ]);
    // No body: the configured registers, default deadline.
    expect((await post(port, "/api/meters/sim1/read", "")).status).toBe(200);
    expect(calls[1]).toEqual({ meter: "sim1", objects: undefined, deadlineMs: READ_LIMITS.defaultDeadlineMs });
  });

  it.each([
    ["not json", "body is not JSON"],
    ["[1]", "body must be a JSON object"],
    ['{"obis": "1.0.32.7.0.255"}', "obis must be a non-empty array of strings"],
    ['{"obis": []}', "obis must be a non-empty array of strings"],
    ['{"obis": ["1.0.32.7.0.255", 7]}', "obis[1] must be a string, got 7"],
    ['{"obis": ["1.0.32.7.0.255", "1.0.32.7"]}', "obis[1] '1.0.32.7'"],
    ['{"obis": ["99999/1.0.32.7.0.255/2"]}', "obis[0] '99999/1.0.32.7.0.255/2': class 99999 is not in 0..65535"],
    ['{"obis": ["1.0.32.7.0.255"], "password": "x"}', "unknown field(s) 'password'"],
    ['{"deadlineMs": 999999}', "deadlineMs must be an integer from 1000 to 120000"],
  ])("answers 400 naming the culprit for %s", async (body, message) => {
    const { port, calls } = await serve();
    const r = await post(port, "/api/meters/sim1/read", body);
    expect(r.status).toBe(400);
    expect(String(r.body.error)).toContain(message);
    expect(calls).toEqual([]);
  });

  it("bounds the object count, the body and the answer", async () => {
    const { port, calls } = await serve();
    const many = JSON.stringify({ obis: new Array(READ_LIMITS.maxObjects + 1).fill("1.0.32.7.0.255") });
    expect(await post(port, "/api/meters/sim1/read", many)).toMatchObject({
      status: 400,
      body: { error: `at most ${READ_LIMITS.maxObjects} objects per read, got ${READ_LIMITS.maxObjects + 1}` },
    });
    const huge = JSON.stringify({ obis: ["x".repeat(READ_LIMITS.maxBodyBytes)] });
    expect(await post(port, "/api/meters/sim1/read", huge)).toMatchObject({
      status: 413,
      body: { error: `body larger than ${READ_LIMITS.maxBodyBytes} bytes` },
    });
    expect(calls).toEqual([]);
    const r = await post(port, "/api/meters/sim1/read", JSON.stringify({ obis: ["0.0.99.98.0.255"] }));
    expect(r.status).toBe(502);
    expect(r.body.error).toContain(`reply larger than ${READ_LIMITS.maxResponseBytes} bytes`);
  });

  it("refuses anything but a JSON POST (no cross-site form posts)", async () => {
    const { port, calls } = await serve();
    const get = await fetch(`http://127.0.0.1:${port}/api/meters/sim1/read`);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
    const form = await post(port, "/api/meters/sim1/read", "obis=1.0.32.7.0.255", "application/x-www-form-urlencoded");
    expect(form).toMatchObject({
      status: 415,
      body: { error: "Content-Type must be application/json, got 'application/x-www-form-urlencoded'" },
    });
    expect(calls).toEqual([]);
  });

  it("answers 404 for an unknown meter (listing the known ones), 503/504 with the meter's last error, never a secret", async () => {
    const { port } = await serve();
    const unknown = await post(port, "/api/meters/nope/read", "{}");
    expect(unknown).toMatchObject({ status: 404, body: { error: "no meter 'nope'", meters: ["sim1", "down"] } });
    const down = await post(port, "/api/meters/down/read", "{}");
    expect(down).toMatchObject({
      status: 503,
      body: {
        error: "meter 'down' is offline (breaker open)",
        breaker: "open",
        connected: false,
        lastError: "TimeoutError: no answer to SNRM",
      },
    });
    const busy = await post(port, "/api/meters/busy/read", "{}");
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("5");
    expect((await post(port, "/api/meters/slow/read", "{}")).status).toBe(504);
    expect((await post(port, "/api/meters/bad%ZZ/read", "{}")).status).toBe(400);
    expect(JSON.stringify([unknown, down, busy])).not.toContain(SECRET);
  });
});
