import type { HlsConfig } from "../model.js";

// Parsing of HLS-GMAC settings shared by the .env configuration and the CLI: keys (32 hex digits, SECRET) and
// system titles (16 hex digits or 8 ASCII characters). Errors name the setting, never echo a key.

export const KEY_HEX_DIGITS = 32;

/** A 16-byte key from 32 hex digits (spaces/colons allowed). The value is never part of the error. */
export function parseKey(value: string, name: string): Uint8Array {
  const clean = value.trim().replace(/[\s:]/g, "");
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length !== KEY_HEX_DIGITS) {
    throw new Error(
      `${name} must be ${KEY_HEX_DIGITS} hex digits (a 16-byte AES-128 key), got ${clean.length} character(s) of which some may not be hex`,
    );
  }
  return Uint8Array.from(Buffer.from(clean, "hex"));
}

/** A system title: 16 hex digits, or exactly 8 printable ASCII characters (e.g. "BRIDGE01"). */
export function parseSystemTitle(value: string, name: string): Uint8Array {
  const v = value.trim();
  if (/^[0-9a-fA-F]{16}$/.test(v)) return Uint8Array.from(Buffer.from(v, "hex"));
  if (/^[\x20-\x7e]{8}$/.test(v)) return new TextEncoder().encode(v);
  throw new Error(`${name} must be 16 hex digits or 8 ASCII characters, got "${v}"`);
}

/** The bridge's default client system title: "DLB" (DLMS bridge) and 5 zero bytes. */
export const DEFAULT_CLIENT_SYSTEM_TITLE = Uint8Array.of(0x44, 0x4c, 0x42, 0, 0, 0, 0, 1);

/** URL parameters of auth=hls-gmac (keys are deliberately not among them). */
export const HLS_PARAMS = ["security", "system_title", "server_system_title", "ic"] as const;
/** Names a key might be given under in the URL: refused, never read. */
const KEY_PARAMS = ["auth_key", "block_key", "key", "ak", "ek", "authentication_key", "encryption_key"];

export function meterKeyVariables(id: string): { auth: string; block: string } {
  return { auth: `METER_${id}_AUTH_KEY`, block: `METER_${id}_BLOCK_KEY` };
}

export interface ParsedHls {
  hls?: HlsConfig;
  keys?: { ek: Uint8Array; ak: Uint8Array };
}

/**
 * The hls-gmac part of METER_<ID>: security=, system_title=, server_system_title=, ic= from the URL and the keys
 * from METER_<ID>_AUTH_KEY / METER_<ID>_BLOCK_KEY. Problems are appended; a key never appears in one.
 */
export function parseHlsParams(
  id: string,
  auth: string,
  params: URLSearchParams,
  env: Record<string, string | undefined>,
  problems: string[],
): ParsedHls {
  for (const name of KEY_PARAMS) {
    if (params.has(name)) {
      const v = meterKeyVariables(id);
      problems.push(`${name}= is refused: keys never go in the URL (set ${v.auth} and ${v.block})`);
    }
  }
  const vars = meterKeyVariables(id);
  const envKey = (name: string) => env[name] ?? env[name.toUpperCase()];
  const authKey = envKey(vars.auth);
  const blockKey = envKey(vars.block);
  if (auth !== "hls-gmac") {
    for (const name of HLS_PARAMS) if (params.has(name)) problems.push(`${name}= applies to auth=hls-gmac only`);
    if (authKey || blockKey) problems.push(`${vars.auth}/${vars.block} are set but auth is not hls-gmac`);
    return {};
  }
  const security = params.get("security") ?? "auth-enc";
  if (security !== "auth" && security !== "enc" && security !== "auth-enc") {
    problems.push(`security '${security}' is not auth, enc or auth-enc`);
  }
  const title = (name: string, text: string | null): string | undefined => {
    if (text === null) return undefined;
    try {
      return Buffer.from(parseSystemTitle(text, name)).toString("hex").toUpperCase();
    } catch (error) {
      problems.push((error as Error).message);
      return undefined;
    }
  };
  const systemTitle =
    title("system_title", params.get("system_title")) ??
    Buffer.from(DEFAULT_CLIENT_SYSTEM_TITLE).toString("hex").toUpperCase();
  const serverSystemTitle = title("server_system_title", params.get("server_system_title"));
  const ic = params.get("ic") ?? "store";
  if (ic !== "store" && ic !== "auto") problems.push(`ic '${ic}' is not store or auto`);
  const key = (text: string | undefined, name: string): Uint8Array | undefined => {
    if (!text) {
      problems.push(`auth=hls-gmac needs ${name} (32 hex digits)`);
      return undefined;
    }
    try {
      return parseKey(text, name);
    } catch (error) {
      problems.push((error as Error).message);
      return undefined;
    }
  };
  const ak = key(authKey, vars.auth);
  const ek = key(blockKey, vars.block);
  const hls: HlsConfig = {
    security: security as HlsConfig["security"],
    systemTitle,
    ic: ic as HlsConfig["ic"],
    ...(serverSystemTitle ? { serverSystemTitle } : {}),
  };
  return ak && ek ? { hls, keys: { ek, ak } } : { hls };
}
