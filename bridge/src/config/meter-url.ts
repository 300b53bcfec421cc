// METER_<ID>=<hdlc|wrapper>://<host>:<port>[?client=16&server=1&physical=N&address_size=1|2|4&auth=none|low
//   &password=..&interval=10s&timeout=5s&deadline=30s&max_reply=256k&registers=default|key:OBIS[:class[:attr]],...]
// METER_<ID>_PASSWORD overrides password= (and is the only safe place for a password holding & + % #).
import type { MeterConfig } from "../model.js";
import { parseDuration } from "./duration.js";
import { ConfigError, scrubSecrets } from "./errors.js";
import { HLS_PARAMS, parseHlsParams } from "./hls.js";
import { PROFILE_PARAMS, parseProfiles } from "./profiles.js";
import { parseRegisters } from "./register-sets.js";

export const METER_DEFAULTS = {
  clientAddress: 16, // public client
  serverLogical: 1, // management logical device
  auth: "none",
  intervalMs: 10_000,
  timeoutMs: 5_000,
  registers: "default",
} as const;

/** Longest interval/timeout: more is a typo, and beyond 2^31-1 ms Node's timers overflow (fire at once). */
export const MAX_METER_DURATION_MS = 24 * 3_600_000;

const ID_PATTERN = /^[A-Za-z0-9_-]+$/;
const KNOWN_PARAMS = new Set([
  "client",
  "server",
  "physical",
  "address_size",
  "auth",
  "password",
  "interval",
  "timeout",
  "deadline",
  "max_reply",
  "registers",
  ...PROFILE_PARAMS,
  ...HLS_PARAMS,
]);

/** Bounds of max_reply=: a reply must hold at least an AARE; above 16 MiB the bound no longer protects anything. */
export const MAX_REPLY_RANGE = { min: 1024, max: 16 * 1024 * 1024 } as const;

/** MeterConfig without its password and keys: what may be stored, logged or served. */
export type PublicMeterConfig = Omit<MeterConfig, "password" | "keys">;

export function withoutSecrets(meter: MeterConfig): PublicMeterConfig {
  const { password: _password, keys: _keys, ...rest } = meter;
  return rest;
}

/** The environment variable that holds the password of meter `id` (as written after METER_). */
export function meterPasswordVariable(id: string): string {
  return `METER_${id}_PASSWORD`;
}

/** Parses one METER_<id> value. Throws ConfigError listing every problem, each prefixed with the variable name. */
export function parseMeterUrl(id: string, url: string, env: Record<string, string | undefined> = {}): MeterConfig {
  const variable = `METER_${id}`;
  const problems: string[] = [];
  const passwordFromEnv = env[meterPasswordVariable(id)] || env[meterPasswordVariable(id.toUpperCase())] || undefined;
  const secrets = [passwordFromEnv]; // grows with every password= value, for scrubbing even when given twice

  const fail = (): never => {
    throw new ConfigError(problems.map((problem) => scrubSecrets(`${variable}: ${problem}`, secrets)));
  };

  if (!ID_PATTERN.test(id)) problems.push(`meter id '${id}' may hold only letters, digits, '_' and '-'`);
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)\/?(?:\?([^#]*))?$/.exec(url.trim());
  if (!match) {
    problems.push("is not of the form <hdlc|wrapper>://<host>:<port>[?options]");
    return fail();
  }
  const [, scheme = "", authority = "", query = ""] = match;
  const params = new URLSearchParams(query);
  secrets.push(...params.getAll("password"));
  checkPercentEscapes(query, problems, id);
  const urlPassword = params.get("password") || undefined;

  const transport = scheme.toLowerCase();
  if (transport !== "hdlc" && transport !== "wrapper") {
    problems.push(`transport '${scheme}' is not supported (use hdlc or wrapper)`);
  }
  const { host, port } = parseAuthority(authority, problems);
  checkParameterNames(query, params, problems, id);

  const integer = (name: string, fallback: number | undefined, max: number): number | undefined => {
    const text = params.get(name);
    if (text === null) return fallback;
    const value = Number(text);
    if (text.trim() === "" || !Number.isInteger(value) || value < 0 || value > max) {
      problems.push(`${name} '${text}' is not an integer in 0..${max}`);
      return fallback;
    }
    return value;
  };
  const hdlc = transport !== "wrapper";
  const clientAddress = integer("client", METER_DEFAULTS.clientAddress, hdlc ? 0x7f : 0xffff)!;
  const serverLogical = integer("server", METER_DEFAULTS.serverLogical, hdlc ? 0x3fff : 0xffff)!;
  const serverPhysical = integer("physical", undefined, 0x3fff);
  const addressSize = parseAddressSize(params.get("address_size"), problems);
  if (!hdlc && (serverPhysical !== undefined || addressSize !== undefined)) {
    problems.push("physical and address_size apply to hdlc only (the wrapper addresses by wPort: client, server)");
  }
  if (hdlc && addressSize !== undefined) checkAddressFits(addressSize, serverLogical, serverPhysical, problems);

  const auth = params.get("auth") ?? METER_DEFAULTS.auth;
  const password = passwordFromEnv ?? urlPassword;
  if (auth !== "none" && auth !== "low" && auth !== "hls-gmac") {
    problems.push(`auth '${auth}' is not supported (use none, low or hls-gmac)`);
  }
  const hlsParsed = parseHlsParams(id, auth, params, env, problems);
  if (auth === "low" && !password) {
    problems.push(`auth=low needs a password: set ${meterPasswordVariable(id)} (or password= in the URL)`);
  }
  if (auth !== "low" && password) problems.push(`a password is set but auth is '${auth}' (add auth=low)`);

  const duration = (name: string, fallback: number): number => {
    const text = params.get(name);
    if (text === null) return fallback;
    try {
      const ms = parseDuration(text);
      if (ms > MAX_METER_DURATION_MS) throw new Error(`'${text}' is longer than the maximum of 24h`);
      return ms;
    } catch (error) {
      problems.push(`${name} ${(error as Error).message}`);
      return fallback;
    }
  };
  const intervalMs = duration("interval", METER_DEFAULTS.intervalMs);
  const timeoutMs = duration("timeout", METER_DEFAULTS.timeoutMs);
  const deadlineText = params.get("deadline");
  const deadlineMs = deadlineText === null ? undefined : duration("deadline", 0);
  if (deadlineMs !== undefined && deadlineMs > 0 && deadlineMs < timeoutMs) {
    problems.push(`deadline '${deadlineText}' is shorter than the per-step timeout (${timeoutMs} ms)`);
  }
  const maxReplyText = params.get("max_reply");
  let maxReplyBytes: number | undefined;
  if (maxReplyText !== null) {
    try {
      maxReplyBytes = parseByteSize(maxReplyText, MAX_REPLY_RANGE.min, MAX_REPLY_RANGE.max);
    } catch (error) {
      problems.push(`max_reply ${(error as Error).message}`);
    }
  }

  const { registers, errors: registerErrors } = parseRegisters(params.get("registers") ?? METER_DEFAULTS.registers);
  problems.push(...registerErrors);

  const profiles = parseProfiles(params, problems);

  if (problems.length > 0) return fail();
  return {
    id: id.toLowerCase(),
    transport: transport as MeterConfig["transport"],
    host,
    port,
    clientAddress,
    serverLogical,
    ...(serverPhysical !== undefined ? { serverPhysical } : {}),
    ...(addressSize !== undefined ? { addressSize } : {}),
    auth: auth as MeterConfig["auth"],
    ...(auth === "low" ? { password } : {}),
    ...(hlsParsed.hls ? { hls: hlsParsed.hls } : {}),
    ...(hlsParsed.keys ? { keys: hlsParsed.keys } : {}),
    intervalMs,
    timeoutMs,
    ...(deadlineMs !== undefined ? { deadlineMs } : {}),
    ...(maxReplyBytes !== undefined ? { maxReplyBytes } : {}),
    registers,
    ...(profiles.length > 0 ? { profiles } : {}),
  };
}

/** "262144", "256k" or "1M" (k = 1024, M = 1024²) within [min, max] bytes. */
export function parseByteSize(text: string, min: number, max: number): number {
  const match = /^(\d+)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a size in bytes (use e.g. 65536, 256k, 1M)`);
  const unit = match[2]!.toLowerCase();
  const bytes = Number(match[1]) * (unit === "k" ? 1024 : unit === "m" ? 1024 * 1024 : 1);
  if (bytes < min || bytes > max) throw new Error(`'${text}' is not between ${min} and ${max} bytes`);
  return bytes;
}

function parseAuthority(authority: string, problems: string[]): { host: string; port: number } {
  if (authority.includes("@")) {
    // Never quote it: the part before '@' is probably a password.
    problems.push("credentials in the URL authority are not supported; use auth=low and METER_<ID>_PASSWORD");
    return { host: "", port: 0 };
  }
  const match = /^(\[[^\]]+\]|[^:]*)(?::(.*))?$/.exec(authority);
  const host = (match?.[1] ?? "").replace(/^\[|\]$/g, "");
  const portText = match?.[2];
  if (host === "") problems.push("host is missing");
  if (portText === undefined || portText === "") {
    problems.push("port is missing (e.g. hdlc://10.0.0.5:4059)");
    return { host, port: 0 };
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText)) problems.push(`port '${portText}' is not a number`);
  else if (port < 1 || port > 65535) problems.push(`port ${port} is outside 1..65535`);
  return { host, port };
}

/** Unknown names are typos, except after password=, where an unencoded '&' in the password splits it. */
function checkParameterNames(query: string, params: URLSearchParams, problems: string[], id: string): void {
  const passwordAt = query.search(/(^|&)password=/);
  let offset = 0;
  for (const pair of query.split("&")) {
    const name = pair.split("=")[0] ?? "";
    const afterPassword = passwordAt >= 0 && offset > passwordAt;
    offset += pair.length + 1;
    if (name === "" || KNOWN_PARAMS.has(name)) continue;
    problems.push(
      afterPassword
        ? `unknown parameter after password= (a password holding '&' belongs in ${meterPasswordVariable(id)})`
        : `unknown parameter '${name}' (known: ${[...KNOWN_PARAMS].join(", ")})`,
    );
  }
  for (const name of KNOWN_PARAMS) {
    if (params.getAll(name).length > 1) problems.push(`parameter '${name}' is given more than once`);
  }
}

/**
 * URLSearchParams keeps an invalid escape ("S3cret%ZZ") as literal text and turns a byte that is not UTF-8 ("%FF")
 * into U+FFFD, so the meter would get something the user did not write. Refused, naming the parameter but never
 * quoting a password.
 */
function checkPercentEscapes(query: string, problems: string[], id: string): void {
  for (const pair of query.split("&")) {
    const at = pair.indexOf("=");
    const name = at < 0 ? pair : pair.slice(0, at);
    const value = at < 0 ? "" : pair.slice(at + 1);
    try {
      decodeURIComponent(value);
      continue;
    } catch {
      // an invalid escape: reported below
    }
    problems.push(
      name === "password"
        ? `password= holds an invalid %-escape (write '%' as %25, or put the password unencoded in ${meterPasswordVariable(id)})`
        : `${name}='${value}' holds an invalid %-escape (write '%' as %25)`,
    );
  }
}

function parseAddressSize(text: string | null, problems: string[]): 1 | 2 | 4 | undefined {
  if (text === null) return undefined;
  if (text === "1" || text === "2" || text === "4") return Number(text) as 1 | 2 | 4;
  problems.push(`address_size '${text}' is not 1, 2 or 4`);
  return undefined;
}

function checkAddressFits(size: 1 | 2 | 4, logical: number, physical: number | undefined, problems: string[]): void {
  const max = size === 4 ? 0x3fff : 0x7f;
  if (size === 1 && physical !== undefined) problems.push("address_size=1 has no room for a physical address");
  if (logical > max || (physical ?? 0) > max) {
    problems.push(`server/physical address does not fit in address_size=${size} (max ${max})`);
  }
}
