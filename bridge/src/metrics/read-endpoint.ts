// POST /api/meters/<id>/read: a technician's read through the running bridge, on the meter's live association
// between its polls (the bridge holds the meter's only association, so a direct `read` would be refused "busy").
// Body (JSON, optional): {"obis": ["1.0.32.7.0.255", "3/1-0:31.7.0/2", "1/0.0.42.0.0.255"], "deadlineMs": 10000};
// without "obis" the meter's configured registers are read. Bounded: body size, object count, deadline, reply size.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type ObjectRef, parseObjectRef } from "../client/object-ref.js";
import type { OnDemandFailure, OnDemandResult } from "../poller/on-demand.js";
import { OnDemandReadError } from "../poller/on-demand.js";

export const READ_LIMITS = {
  maxBodyBytes: 16 * 1024,
  maxObjects: 32,
  /** Serialized answer; larger ones are refused (a profile buffer belongs in `read` with --from/--to). */
  maxResponseBytes: 1024 * 1024,
  defaultDeadlineMs: 30_000,
  maxDeadlineMs: 120_000,
} as const;

export type MeterReader = (
  meterId: string,
  objects: ObjectRef[] | undefined,
  deadlineMs: number,
) => Promise<OnDemandResult>;

const STATUS: Record<OnDemandFailure, number> = {
  "unknown-meter": 404,
  unavailable: 503,
  busy: 503,
  timeout: 504,
  failed: 502,
};

/** A request problem: answered with `status` and `message`, which names the culprit. */
class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** `rawMeterId` is the path segment as received (still %-encoded). */
export async function handleMeterRead(
  rawMeterId: string,
  request: IncomingMessage,
  response: ServerResponse,
  read: MeterReader,
  knownMeters: () => string[],
): Promise<void> {
  let objects: ObjectRef[] | undefined;
  let deadlineMs: number;
  let meterId: string;
  try {
    try {
      meterId = decodeURIComponent(rawMeterId);
    } catch {
      throw new BadRequest(400, `meter id '${rawMeterId}' holds an invalid %-escape`);
    }
    const contentType = (request.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    // JSON only: a browser cannot send it cross-site without a CORS preflight, which this server never grants.
    if (contentType !== "application/json") {
      throw new BadRequest(415, `Content-Type must be application/json, got '${contentType || "none"}'`);
    }
    ({ objects, deadlineMs } = parseBody(await readBody(request)));
  } catch (error) {
    if (!(error instanceof BadRequest)) throw error;
    return sendJson(response, error.status, { error: error.message });
  }

  let timer: NodeJS.Timeout | undefined;
  const overdue = new Promise<never>((_, reject) => {
    // The engine enforces the deadline; this is the backstop for a poll in flight that outlives it.
    timer = setTimeout(
      () => reject(new OnDemandReadError("busy", `no answer from meter '${meterId}' within ${deadlineMs} ms`)),
      deadlineMs + 1000,
    );
  });
  try {
    const result = await Promise.race([read(meterId, objects, deadlineMs), overdue]);
    const body = JSON.stringify(result);
    if (Buffer.byteLength(body) > READ_LIMITS.maxResponseBytes) {
      return sendJson(response, 502, {
        error: `reply larger than ${READ_LIMITS.maxResponseBytes} bytes (${result.objects.length} objects): read fewer objects`,
      });
    }
    return send(response, 200, body);
  } catch (error) {
    if (!(error instanceof OnDemandReadError)) throw error;
    const status = STATUS[error.failure];
    const state = error.state;
    const detail: Record<string, unknown> = { error: error.message };
    if (error.failure === "unknown-meter") detail.meters = knownMeters();
    if (state) {
      Object.assign(detail, {
        connected: state.connected,
        breaker: state.breaker,
        lastError: state.lastError ?? null,
        lastErrorTs: state.lastErrorTs ?? null,
      });
    }
    if (error.failure === "busy") response.setHeader("Retry-After", "5");
    return sendJson(response, status, detail);
  } finally {
    clearTimeout(timer);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > READ_LIMITS.maxBodyBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > READ_LIMITS.maxBodyBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function tooLarge(): BadRequest {
  return new BadRequest(413, `body larger than ${READ_LIMITS.maxBodyBytes} bytes`);
}

const BODY_KEYS = new Set(["obis", "deadlineMs"]);

/** The objects (undefined: the configured registers) and the deadline; BadRequest naming the culprit otherwise. */
export function parseBody(text: string): { objects: ObjectRef[] | undefined; deadlineMs: number } {
  let body: unknown = {};
  if (text.trim() !== "") {
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new BadRequest(400, `body is not JSON: ${(error as Error).message}`);
    }
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequest(400, 'body must be a JSON object, e.g. {"obis": ["1.0.32.7.0.255"]}');
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !BODY_KEYS.has(k));
  if (unknown.length > 0) {
    throw new BadRequest(400, `unknown field(s) ${unknown.map((k) => `'${k}'`).join(", ")} (known: obis, deadlineMs)`);
  }
  let deadlineMs: number = READ_LIMITS.defaultDeadlineMs;
  if (record.deadlineMs !== undefined) {
    const value = record.deadlineMs;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1000 || value > READ_LIMITS.maxDeadlineMs) {
      throw new BadRequest(400, `deadlineMs must be an integer from 1000 to ${READ_LIMITS.maxDeadlineMs}`);
    }
    deadlineMs = value;
  }
  if (record.obis === undefined) return { objects: undefined, deadlineMs };
  if (!Array.isArray(record.obis) || record.obis.length === 0) {
    throw new BadRequest(
      400,
      'obis must be a non-empty array of strings, e.g. ["1.0.32.7.0.255", "1/0.0.42.0.0.255/2"]',
    );
  }
  if (record.obis.length > READ_LIMITS.maxObjects) {
    throw new BadRequest(400, `at most ${READ_LIMITS.maxObjects} objects per read, got ${record.obis.length}`);
  }
  const objects = record.obis.map((item, i) => {
    if (typeof item !== "string") throw new BadRequest(400, `obis[${i}] must be a string, got ${JSON.stringify(item)}`);
    try {
      return parseObjectRef(item);
    } catch (error) {
      throw new BadRequest(400, `obis[${i}] '${item.slice(0, 64)}': ${(error as Error).message}`);
    }
  });
  return { objects, deadlineMs };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, JSON.stringify(body));
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  response.end(body);
}
