// The bridge's small HTTP surface: /metrics (Prometheus), /healthz (liveness), /readyz (broker + database),
// /api/meters (state of each meter, secrets removed whatever the caller passes), POST /api/meters/<id>/read (a
// technician's read on the live association, see read-endpoint.ts).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import { handleMeterRead, type MeterReader } from "./read-endpoint.js";
import type { BridgeMetrics } from "./registry.js";

export interface HealthChecks {
  mqttConnected: boolean;
  dbWritable: boolean;
  /** Why the database is not writable, in words ("outbox cannot write: disk full at /data/bridge.db"). */
  dbProblem?: string;
}

/** One meter as served by /api/meters; any key naming a secret is removed before serving. */
export type MeterStatus = { id: string } & Record<string, unknown>;

export interface HttpServerOptions {
  port: number;
  host?: string;
  metrics: Pick<BridgeMetrics, "registry">;
  health: () => HealthChecks;
  meters: () => MeterStatus[] | Promise<MeterStatus[]>;
  /** Serves POST /api/meters/<id>/read when given. */
  readMeter?: MeterReader;
  log?: Logger;
}

export interface HttpServerHandle {
  port: number;
  close(): Promise<void>;
}

const SECRET_KEY = /pass(word|wd)?|secret|token|authori[sz]ation|credential/i;

/** A deep copy of `value` without any property whose name looks like a secret. */
export function stripSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !SECRET_KEY.test(key))
      .map(([key, inner]) => [key, stripSecrets(inner)]),
  );
}

export async function startHttpServer(options: HttpServerOptions): Promise<HttpServerHandle> {
  const server = createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      options.log?.error({ err: { message: (error as Error).message }, url: request.url }, "HTTP handler failed");
      if (!response.headersSent) send(response, 500, "text/plain", "internal error\n");
      else response.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

const READ_PATH = /^\/api\/meters\/([^/]+)\/read$/;

async function handle(options: HttpServerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? "/", "http://bridge").pathname;
  const readPath = READ_PATH.exec(path);
  if (readPath && options.readMeter) {
    if (request.method !== "POST") {
      response.setHeader("Allow", "POST");
      return send(response, 405, "text/plain", "method not allowed: POST a JSON body\n");
    }
    const ids = (await options.meters()).map((m) => m.id);
    return handleMeterRead(readPath[1]!, request, response, options.readMeter, () => ids);
  }
  if (request.method !== "GET" && request.method !== "HEAD") {
    response.setHeader("Allow", "GET, HEAD");
    return send(response, 405, "text/plain", "method not allowed\n");
  }
  switch (path) {
    case "/metrics": {
      const { registry } = options.metrics;
      return send(response, 200, registry.contentType, await registry.exposition());
    }
    case "/healthz":
      return send(response, 200, "text/plain", "ok\n");
    case "/readyz": {
      const checks = options.health();
      const failed = [
        ...(checks.mqttConnected ? [] : ["mqtt broker not connected"]),
        ...(checks.dbWritable ? [] : [checks.dbProblem ?? "database not writable"]),
      ];
      return failed.length === 0
        ? send(response, 200, "text/plain", "ready\n")
        : send(response, 503, "text/plain", `not ready: ${failed.join("; ")}\n`);
    }
    case "/api/meters":
      return send(response, 200, "application/json", JSON.stringify(stripSecrets(await options.meters())));
    default:
      return send(response, 404, "text/plain", "not found\n");
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer[]): void {
  response.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store" });
  if (typeof body === "string") {
    response.end(body);
    return;
  }
  for (const chunk of body) response.write(chunk);
  response.end();
}
