// `read --auth hls-gmac`: keys from the meter's .env entry, from DLMS_AUTH_KEY / DLMS_BLOCK_KEY, or from files
// (--auth-key-file / --block-key-file), never from a flag value, so they stay out of the process list and shell
// history. The invocation counter is in memory: --ic N, or (default) the meter's counter object read first.
import { readFileSync } from "node:fs";
import type { HlsGmacSettings } from "../client/types.js";
import { DEFAULT_CLIENT_SYSTEM_TITLE, parseKey, parseSystemTitle } from "../config/hls.js";
import { fromHex } from "../dlms/codec/hex.js";
import type { MeterConfig } from "../model.js";
import { intOption, UsageError } from "./args.js";

export const READ_HLS_OPTIONS = {
  "auth-key-file": { type: "string" },
  "block-key-file": { type: "string" },
  security: { type: "string" },
  "system-title": { type: "string" },
  "server-system-title": { type: "string" },
  ic: { type: "string" },
} as const;

export const READ_HLS_USAGE = `  --auth hls-gmac       HLS-GMAC with ciphered APDUs (security suite 0); keys from --meter (METER_<ID>_AUTH_KEY,
                        METER_<ID>_BLOCK_KEY), from DLMS_AUTH_KEY / DLMS_BLOCK_KEY, or from files:
  --auth-key-file F     file holding the authentication key (32 hex digits)
  --block-key-file F    file holding the block (encryption) key (32 hex digits)
  --security S          auth, enc or auth-enc (default auth-enc)
  --system-title X      our system title: 16 hex digits or 8 ASCII characters (default 444C420000000001)
  --server-system-title X  refuse a meter whose system title is not X
  --ic N|auto           first invocation counter; auto (default) reads 0.0.43.1.0.255 with the public client`;

export interface ReadHlsValues {
  "auth-key-file"?: string | undefined;
  "block-key-file"?: string | undefined;
  security?: string | undefined;
  "system-title"?: string | undefined;
  "server-system-title"?: string | undefined;
  ic?: string | undefined;
}

export interface ReadHls {
  auth: HlsGmacSettings;
  /** ic=auto: read the meter's counter object before associating. */
  autoIc: boolean;
}

function keyFrom(
  file: string | undefined,
  envValue: string | undefined,
  meterKey: Uint8Array | undefined,
  name: string,
  flag: string,
  envName: string,
): Uint8Array {
  try {
    if (file !== undefined) return parseKey(readFileSync(file, "utf8"), `${flag} ${file}`);
    if (meterKey) return meterKey;
    if (envValue) return parseKey(envValue, envName);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  throw new UsageError(`--auth hls-gmac needs the ${name}: ${flag} FILE, ${envName}, or --meter with its .env keys`);
}

export function buildHlsAuth(values: ReadHlsValues, meter: MeterConfig | undefined, env: NodeJS.ProcessEnv): ReadHls {
  const ak = keyFrom(
    values["auth-key-file"],
    env.DLMS_AUTH_KEY,
    meter?.keys?.ak,
    "authentication key",
    "--auth-key-file",
    "DLMS_AUTH_KEY",
  );
  const ek = keyFrom(
    values["block-key-file"],
    env.DLMS_BLOCK_KEY,
    meter?.keys?.ek,
    "block key",
    "--block-key-file",
    "DLMS_BLOCK_KEY",
  );
  const security = values.security ?? meter?.hls?.security ?? "auth-enc";
  if (security !== "auth" && security !== "enc" && security !== "auth-enc") {
    throw new UsageError(`--security must be auth, enc or auth-enc, got '${security}'`);
  }
  const title = (text: string | undefined, flag: string, fallback: string | undefined) => {
    try {
      if (text !== undefined) return parseSystemTitle(text, flag);
      return fallback ? fromHex(fallback) : undefined;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const systemTitle =
    title(values["system-title"], "--system-title", meter?.hls?.systemTitle) ?? DEFAULT_CLIENT_SYSTEM_TITLE;
  const serverSystemTitle = title(
    values["server-system-title"],
    "--server-system-title",
    meter?.hls?.serverSystemTitle,
  );
  const icText = values.ic ?? "auto";
  const start = icText === "auto" ? 1 : intOption("ic", icText, 0, 0xffff_ffff)!;
  let next = start;
  const auth: HlsGmacSettings = {
    mechanism: "hls-gmac",
    policy: security,
    systemTitle,
    keys: { ek, ak },
    counter: {
      next: () => next++,
      raiseTo: (v) => {
        next = Math.max(next, v);
      },
    },
    ...(serverSystemTitle ? { serverSystemTitle } : {}),
  };
  return { auth, autoIc: icText === "auto" };
}
