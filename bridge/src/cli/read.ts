import { existsSync } from "node:fs";
// `dlms-bridge read`: the technician's one-shot read of a few objects, with scaler/unit applied, optional JSON
// output and a hex frame trace (password masked). Connection, association and per-object failures all end in a
// one-line message saying what failed and where.
import { parseArgs } from "node:util";
import { DEFAULT_DEADLINE_TIMEOUTS, DlmsClient } from "../client/client.js";
import { AssociationRejectedError, ClientError } from "../client/errors.js";
import { readFrameCounter } from "../client/frame-counter.js";
import { type ObjectRef, parseObjectRef } from "../client/object-ref.js";
import { readingToJson, renderObjectReading } from "../client/reading-json.js";
import { type AttributeReading, readAttributes } from "../client/reads.js";
import type { AuthSettings, LinkSettings } from "../client/types.js";
import { parseDuration } from "../config/duration.js";
import { MAX_REPLY_RANGE, parseByteSize, parseMeterUrl } from "../config/meter-url.js";
import { toHex } from "../dlms/codec/hex.js";
import type { MeterConfig, RegisterSpec } from "../model.js";
import { TcpTransport } from "../transport/tcp.js";
import {
  type CliIo,
  choiceOption,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  intOption,
  processIo,
  readEnvFile,
  UsageError,
} from "./args.js";
import { buildHlsAuth, READ_HLS_OPTIONS, READ_HLS_USAGE } from "./read-hls.js";
import { type ProfileRequest, parseProfileRequest, printProfile } from "./read-profile.js";
import { type BridgeReadPlan, defaultBridgeUrl, readViaBridge } from "./read-via-bridge.js";

export const READ_USAGE = `usage: dlms-bridge read --host H [--port P] --obis OBIS [--obis OBIS ...] [options]
       dlms-bridge read --meter ID [--env FILE] [--obis OBIS ...] [options]
       dlms-bridge read --meter ID --via-bridge [--bridge-url URL] [--obis OBIS ...] [--json] [--deadline D]
Reads COSEM objects from one meter and prints each value with its scaler and unit applied.

  --host H              meter or simulator host
  --port P              TCP port (default 4059 for hdlc, 4060 for wrapper)
  --transport T         hdlc (default) or wrapper
  --client N            client SAP / wPort (default 16, public client)
  --server N            server logical address / wPort (default 1)
  --physical N          HDLC server physical address (omit for none)
  --address-size 1|2|4  HDLC server address size in bytes (default: smallest that fits)
  --auth none|low|hls-gmac  authentication (default none); low needs --password
  --password X          LLS password, never printed (it shows in the process list: prefer DLMS_PASSWORD in the
                        environment, or --meter with METER_<ID>_PASSWORD)
${READ_HLS_USAGE}
  --obis OBIS           object to read, 1.0.32.7.0.255 or 1-0:32.7.0[*255]; repeatable; CLASS/OBIS[/ATTR]
                        (e.g. 1/0.0.42.0.0.255) overrides --class/--attr for that object
  --class N             interface class of the objects (default: by OBIS — 3 Register for electricity
                        values, 1 Data for abstract objects, 8 clock, 7 profiles, 15 association)
  --attr N              attribute to read (default 2, value)
  --timeout MS          per-step timeout in milliseconds (default 5000)
  --deadline D          the whole read (connect, every object, release) ends after D: seconds or 30s, 2m
                        (default 120s; raise it for a long load profile range over a slow line)
  --max-reply BYTES     largest reply accepted from the meter: 65536, 256k, 1M (default 256k)
  --disc-first          send DISC before SNRM (frees a meter left busy by a dead client)
  --from ISO --to ISO   with --obis 7/<OBIS>/2 (a load profile): the rows captured in that time range, e.g.
                        --from 2026-12-01T00:00:00Z (no offset = UTC; --to defaults to now)
  --last N              with --obis 7/<OBIS>/2: the newest N rows, read by entries (default 10)
  --json                one JSON object per object (per profile row) on stdout
  --trace               every frame in hex on stderr, with direction and summary
  --meter ID            take the connection from METER_<ID> in the env file (options above override it);
                        without --obis, reads the meter's configured registers
  --env FILE            env file for --meter (default .env)
  --via-bridge          read through the running bridge (POST /api/meters/<ID>/read), on the association it
                        holds, between its polls: the way to read a meter the bridge polls (a meter accepts one
                        association at a time). Connection options do not apply; no --trace.
  --bridge-url URL      the bridge's HTTP listener (implies --via-bridge; default http://127.0.0.1:$HTTP_PORT,
                        HTTP_PORT defaulting to 9464)

Exit status: 0 all objects read, 1 a failure (connection, association or any object), 2 bad usage.`;

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  transport: { type: "string" },
  client: { type: "string" },
  server: { type: "string" },
  physical: { type: "string" },
  "address-size": { type: "string" },
  auth: { type: "string" },
  password: { type: "string" },
  obis: { type: "string", multiple: true },
  class: { type: "string" },
  attr: { type: "string" },
  timeout: { type: "string" },
  deadline: { type: "string" },
  "max-reply": { type: "string" },
  "disc-first": { type: "boolean", default: false },
  json: { type: "boolean", default: false },
  from: { type: "string" },
  to: { type: "string" },
  last: { type: "string" },
  trace: { type: "boolean", default: false },
  meter: { type: "string" },
  env: { type: "string", default: ".env" },
  "via-bridge": { type: "boolean", default: false },
  "bridge-url": { type: "string" },
  help: { type: "boolean", short: "h", default: false },
  ...READ_HLS_OPTIONS,
} as const;

/** Options that configure a direct association: meaningless when the bridge's association is used. */
const DIRECT_ONLY = [
  "host",
  "port",
  "transport",
  "client",
  "server",
  "physical",
  "address-size",
  "auth",
  "password",
  "timeout",
  "max-reply",
  "disc-first",
  "trace",
  "from",
  "to",
  "last",
] as const;

export type ReadValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: false }>>["values"];

/** Everything `read` needs, resolved from flags (and --meter). */
export interface ReadPlan {
  host: string;
  port: number;
  link: LinkSettings;
  auth: AuthSettings;
  timeoutMs: number;
  /** Bound on the whole read; also caps the deadline of each GET. */
  deadlineMs: number;
  /** Per-GET deadline from the meter's config (deadline=), if any. */
  requestDeadlineMs?: number;
  maxReplyBytes?: number;
  discFirst: boolean;
  specs: RegisterSpec[];
  /** Set when the one object is a load profile buffer (class 7 attribute 2). */
  profile?: ProfileRequest;
  /** hls-gmac with ic=auto: read the meter's invocation counter object first. */
  autoIc?: boolean;
}

export const DEFAULT_READ_DEADLINE_MS = 120_000;

const DEFAULT_PORTS = { hdlc: 4059, wrapper: 4060 } as const;

export async function main(argv: string[]): Promise<number> {
  return runRead(argv, processIo);
}

export async function runRead(argv: string[], io: CliIo): Promise<number> {
  let values: ReadValues;
  let plan: ReadPlan | BridgeReadPlan;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false }).values;
    if (values.help) {
      io.out(READ_USAGE);
      return EXIT_OK;
    }
    const viaBridge = values["via-bridge"] || values["bridge-url"] !== undefined;
    plan = viaBridge ? buildBridgePlan(values) : buildReadPlan(values);
  } catch (error) {
    io.err(`dlms-bridge read: ${error instanceof Error ? error.message : String(error)}`);
    io.err("run 'dlms-bridge read --help' for usage");
    return EXIT_USAGE;
  }
  if ("url" in plan) return readViaBridge(plan, values.json === true, io);
  return executeRead(plan, { json: values.json === true, trace: values.trace === true }, io);
}

export function buildBridgePlan(values: ReadValues): BridgeReadPlan {
  if (values.meter === undefined) throw new UsageError("--via-bridge needs --meter ID (the meter's id in the bridge)");
  const direct = DIRECT_ONLY.filter((name) => values[name] !== undefined && values[name] !== false);
  if (direct.length > 0) {
    throw new UsageError(
      `${direct.map((n) => `--${n}`).join(", ")} do(es) not apply with --via-bridge (the bridge reads on its own association)`,
    );
  }
  const url = values["bridge-url"] ?? defaultBridgeUrl();
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--bridge-url '${url}' is not an http:// URL`);
  const classId = intOption("class", values.class, 0, 0xffff);
  const attributeId = intOption("attr", values.attr, -128, 127) ?? 2;
  const deadlineMs = Math.min(deadlineOption(values.deadline) ?? 30_000, 120_000);
  return {
    url,
    meter: values.meter.toLowerCase(),
    ...(values.obis && values.obis.length > 0
      ? { objects: values.obis.map((text) => parseObjectArgument(text, classId, attributeId)) }
      : {}),
    deadlineMs: Math.max(1000, deadlineMs),
  };
}

export function buildReadPlan(values: ReadValues): ReadPlan {
  const meter = values.meter === undefined ? undefined : meterFromEnv(values.meter, values.env ?? ".env");
  const transport =
    choiceOption("transport", values.transport, ["hdlc", "wrapper"] as const) ?? meter?.transport ?? "hdlc";
  const host = values.host ?? meter?.host;
  if (!host) throw new UsageError("--host is required (or --meter with an env file)");
  const port = intOption("port", values.port, 1, 65535) ?? meter?.port ?? DEFAULT_PORTS[transport];
  if (transport === "wrapper" && (values.physical !== undefined || values["address-size"] !== undefined)) {
    throw new UsageError("--physical and --address-size apply to --transport hdlc only");
  }
  // HDLC: the client SAP is a one-byte address (0..127); wrapper wPorts are 16-bit.
  const maxClient = transport === "hdlc" ? 0x7f : 0xffff;
  const client = intOption("client", values.client, 0, maxClient) ?? meter?.clientAddress ?? 16;
  const server =
    intOption("server", values.server, 0, transport === "hdlc" ? 0x3fff : 0xffff) ?? meter?.serverLogical ?? 1;
  const physical = intOption("physical", values.physical, 0, 0x3fff) ?? meter?.serverPhysical;
  const sizeOption = intOption("address-size", values["address-size"], 1, 4);
  if (sizeOption === 3) throw new UsageError("--address-size must be 1, 2 or 4, got '3'");
  const addressSize = (sizeOption as 1 | 2 | 4 | undefined) ?? meter?.addressSize;
  const mechanism = choiceOption("auth", values.auth, ["none", "low", "hls-gmac"] as const) ?? meter?.auth ?? "none";
  const password = values.password ?? meter?.password ?? process.env.DLMS_PASSWORD;
  if (mechanism === "low" && !password) throw new UsageError("--auth low needs --password (or DLMS_PASSWORD)");
  if (mechanism !== "low" && values.password !== undefined)
    throw new UsageError("--password is only used with --auth low");
  const hls = mechanism === "hls-gmac" ? buildHlsAuth(values, meter, process.env) : undefined;
  const timeoutMs = intOption("timeout", values.timeout, 1, 600_000) ?? meter?.timeoutMs ?? 5000;
  const specs = buildSpecs(values, meter);
  const deadlineMs = deadlineOption(values.deadline) ?? DEFAULT_READ_DEADLINE_MS;
  const maxReplyBytes = byteSizeOption("max-reply", values["max-reply"]) ?? meter?.maxReplyBytes;

  const link: LinkSettings =
    transport === "wrapper"
      ? { kind: "wrapper", clientAddress: client, serverAddress: { logical: server } }
      : {
          kind: "hdlc",
          clientAddress: client,
          serverAddress: {
            logical: server,
            ...(physical === undefined ? {} : { physical }),
            ...(addressSize === undefined ? {} : { size: addressSize }),
          },
        };
  return {
    host,
    port,
    link,
    auth: hls ? hls.auth : mechanism === "low" ? { mechanism: "low", password: password! } : { mechanism: "none" },
    ...(hls?.autoIc ? { autoIc: true } : {}),
    timeoutMs,
    deadlineMs,
    ...(meter?.deadlineMs === undefined ? {} : { requestDeadlineMs: meter.deadlineMs }),
    ...(maxReplyBytes === undefined ? {} : { maxReplyBytes }),
    discFirst: values["disc-first"] === true,
    specs,
    ...profilePlan(specs, values),
  };
}

function profilePlan(specs: RegisterSpec[], values: ReadValues): { profile?: ProfileRequest } {
  const buffers = specs.filter((s) => s.classId === 7 && s.attributeId === 2);
  const ranged = values.from !== undefined || values.to !== undefined || values.last !== undefined;
  if (buffers.length === 0) {
    if (ranged) throw new UsageError("--from/--to/--last read a load profile: give --obis 7/<OBIS>/2");
    return {};
  }
  if (specs.length > 1) {
    if (ranged) throw new UsageError("a load profile buffer is read alone: give one --obis 7/<OBIS>/2");
    return {}; // several objects: each read whole, as any other attribute
  }
  const profile = parseProfileRequest(specs[0]!.obis, 7, values);
  return profile ? { profile } : {};
}

/** --deadline: bare seconds ("30") or a duration ("30s", "2m"), at most a day. */
function deadlineOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  let ms: number;
  try {
    ms = /^\d+(\.\d+)?$/.test(text.trim()) ? Math.round(Number(text) * 1000) : parseDuration(text);
  } catch (error) {
    throw new UsageError(`--deadline: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!(ms > 0) || ms > 86_400_000) throw new UsageError(`--deadline must be between 1ms and 24h, got '${text}'`);
  return ms;
}

function byteSizeOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseByteSize(text, MAX_REPLY_RANGE.min, MAX_REPLY_RANGE.max);
  } catch (error) {
    throw new UsageError(`--${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function buildSpecs(values: ReadValues, meter: MeterConfig | undefined): RegisterSpec[] {
  const classId = intOption("class", values.class, 0, 0xffff);
  const attributeId = intOption("attr", values.attr, -128, 127) ?? 2;
  const obisList = values.obis ?? [];
  if (obisList.length === 0) {
    if (meter) return meter.registers;
    throw new UsageError("give at least one --obis (e.g. --obis 1.0.32.7.0.255)");
  }
  return obisList.map((text, i) => ({ key: `#${i}`, ...parseObjectArgument(text, classId, attributeId) }));
}

/** "OBIS" (with --class/--attr) or "CLASS/OBIS[/ATTR]" for objects of different classes in one read. */
export function parseObjectArgument(
  text: string,
  defaultClass: number | undefined,
  defaultAttribute: number,
): ObjectRef {
  try {
    return parseObjectRef(text, defaultClass, defaultAttribute);
  } catch (error) {
    throw new UsageError(`--obis '${text}': ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** METER_<ID> from the env file, parsed by the bridge's own config code (password from METER_<ID>_PASSWORD too). */
function meterFromEnv(id: string, envFile: string): MeterConfig {
  // Inside the bridge container the meters are already in the environment (compose env_file): use it when the
  // default .env is absent; a file, when present, wins.
  const fileEnv = envFile === ".env" && !existsSync(envFile) ? {} : readEnvFile(envFile);
  const env: Record<string, string | undefined> = { ...process.env, ...fileEnv };
  const variable = Object.keys(env).find((name) => name.toUpperCase() === `METER_${id.toUpperCase()}`);
  if (!variable) throw new UsageError(`no METER_${id.toUpperCase()} in ${envFile} or the environment`);
  const idAsWritten = variable.slice("METER_".length);
  try {
    return parseMeterUrl(idAsWritten, env[variable]!, env);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function executeRead(plan: ReadPlan, output: { json: boolean; trace: boolean }, io: CliIo): Promise<number> {
  const where = `${plan.host}:${plan.port}`;
  if (plan.autoIc && plan.auth.mechanism === "hls-gmac") {
    const transport = new TcpTransport({ host: plan.host, port: plan.port, connectTimeoutMs: plan.timeoutMs });
    const counter = await readFrameCounter(plan.link, transport, plan.timeoutMs);
    if (counter !== undefined) plan.auth.counter.raiseTo?.(counter);
    if (output.trace) {
      io.err(
        counter === undefined
          ? "ic=auto: no invocation counter object (0.0.43.1.0.255): starting at 1 (use --ic N)"
          : `ic=auto: the meter expects invocation counter >= ${counter}`,
      );
    }
  }
  const client = new DlmsClient({
    transport: new TcpTransport({ host: plan.host, port: plan.port, connectTimeoutMs: plan.timeoutMs }),
    link: plan.link,
    auth: plan.auth,
    timeoutMs: plan.timeoutMs,
    // A profile read streams its rows (nothing piles up), so it may take all of --deadline; other GETs keep theirs.
    requestDeadlineMs: plan.profile
      ? plan.deadlineMs
      : Math.min(plan.requestDeadlineMs ?? DEFAULT_DEADLINE_TIMEOUTS * plan.timeoutMs, plan.deadlineMs),
    ...(plan.maxReplyBytes === undefined ? {} : { maxReplyBytes: plan.maxReplyBytes }),
    discFirst: plan.discFirst,
    ...(output.trace
      ? {
          onFrame: (direction: "tx" | "rx", bytes: Uint8Array, summary: string) =>
            io.err(`${direction.toUpperCase()} ${summary}\n   ${toHex(bytes)}`),
          onDiscarded: (error: Error) => io.err(`discarded: ${error.message}`),
        }
      : {}),
  });
  // The overall deadline: closing the client fails whatever it waits for, so the read ends even against a meter
  // that keeps answering (each answer would restart a per-step timeout).
  let expired = false;
  const deadline = setTimeout(() => {
    expired = true;
    client.close();
  }, plan.deadlineMs);
  const explain = (error: unknown): unknown =>
    expired ? new Error(`read deadline of ${plan.deadlineMs / 1000} s passed: ${messageOf(error)}`) : error;
  if (plan.profile) {
    try {
      return await executeProfileRead(client, plan.profile, where, output.json, io, explain);
    } finally {
      clearTimeout(deadline);
    }
  }
  let readings: Record<string, AttributeReading>;
  try {
    await client.connect();
    readings = await readAttributes(client, plan.specs);
  } catch (error) {
    clearTimeout(deadline);
    client.close();
    reportFailure(explain(error), where, output.json, io);
    return EXIT_FAILURE;
  }
  try {
    await client.release();
  } catch {
    // Values are already in hand; a release problem does not change them.
  } finally {
    clearTimeout(deadline);
  }
  let failed = 0;
  for (const spec of plan.specs) {
    const line = renderReading(spec, readings[spec.key]!, output.json);
    if (line.ok) io.out(line.text);
    else {
      failed++;
      if (output.json) io.out(line.text);
      else io.err(line.text);
    }
  }
  return failed > 0 ? EXIT_FAILURE : EXIT_OK;
}

async function executeProfileRead(
  client: DlmsClient,
  request: ProfileRequest,
  where: string,
  json: boolean,
  io: CliIo,
  explain: (error: unknown) => unknown,
): Promise<number> {
  try {
    await client.connect();
    await printProfile(client, request, json, io);
  } catch (error) {
    client.close();
    reportFailure(explain(error), where, json, io);
    return EXIT_FAILURE;
  }
  await client.release().catch(() => undefined);
  return EXIT_OK;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function reportFailure(error: unknown, where: string, json: boolean, io: CliIo): void {
  const message = error instanceof Error ? error.message : String(error);
  const step = error instanceof ClientError ? error.step : undefined;
  if (json) {
    const diagnostic = error instanceof AssociationRejectedError ? { diagnostic: error.diagnostic } : {};
    io.out(JSON.stringify({ meter: where, error: message, ...(step ? { step } : {}), ...diagnostic }));
  } else io.err(`error: ${message}`);
}

/** One output line: text "OBIS  value unit" / JSON object; failures name the data-access-result. */
export function renderReading(
  spec: RegisterSpec,
  reading: AttributeReading,
  json: boolean,
): { ok: boolean; text: string } {
  return renderObjectReading(readingToJson(spec, reading), json);
}
