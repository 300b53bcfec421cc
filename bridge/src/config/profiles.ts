// Load profiles of a meter URL: profile=<OBIS|default>[,<OBIS>...] (several profiles allowed, comma-separated),
// profile_keys=key:OBIS,... (capture column -> telemetry key, shared by all the meter's profiles; columns not listed
// are not published; default: every numeric column under the key of its OBIS in the register catalogue),
// backfill=<duration> (how far back to read at most, default 7d, for every profile of the meter).
import type { ProfileSpec } from "../model.js";
import { parseDuration } from "./duration.js";
import { normalizeObis } from "./obis.js";
import { parseRegisters, REGISTER_SETS } from "./register-sets.js";

export const PROFILE_PARAMS = ["profile", "profile_keys", "backfill"] as const;
/** The load profile most meters have (1-0:99.1.0, 15-minute energy); `profile=default` names it. */
export const DEFAULT_PROFILE_OBIS = "1.0.99.1.0.255";
export const DEFAULT_BACKFILL_MS = 7 * 86_400_000;
const MAX_BACKFILL_MS = 3 * 366 * 86_400_000;

export function parseProfiles(params: URLSearchParams, problems: string[]): ProfileSpec[] {
  const profileText = params.get("profile");
  const keysText = params.get("profile_keys");
  const backfillText = params.get("backfill");
  if (profileText === null) {
    if (keysText !== null || backfillText !== null) problems.push("profile_keys and backfill need profile=");
    return [];
  }
  const obisList: string[] = [];
  for (const item of profileText.split(",").map((t) => t.trim())) {
    if (item === "") continue;
    try {
      const obis = item === "default" ? DEFAULT_PROFILE_OBIS : normalizeObis(item);
      if (obisList.includes(obis)) problems.push(`profile ${item} is listed twice`);
      else obisList.push(obis);
    } catch (error) {
      problems.push(`profile '${item}': ${(error as Error).message}`);
    }
  }
  if (obisList.length === 0) problems.push("profile is empty (use profile=default or profile=1-0:99.1.0)");

  let backfillMs = DEFAULT_BACKFILL_MS;
  if (backfillText !== null) {
    try {
      backfillMs = parseDuration(backfillText);
      if (backfillMs > MAX_BACKFILL_MS) problems.push(`backfill '${backfillText}' is longer than 3 years`);
    } catch (error) {
      problems.push(`backfill ${(error as Error).message}`);
    }
  }

  const keys: Record<string, string> = {};
  if (keysText !== null) {
    const { registers, errors } = parseRegisters(keysText);
    problems.push(...errors.map((e) => `profile_keys: ${e}`));
    for (const r of registers) {
      if (keys[r.obis] !== undefined) problems.push(`profile_keys: ${r.obis} is mapped twice`);
      keys[r.obis] = r.key;
    }
  }
  return obisList.map((obis) => ({ obis, keys: { ...keys }, backfillMs }));
}

const CATALOGUE_KEYS = new Map<string, string>();
for (const set of Object.values(REGISTER_SETS)) {
  for (const spec of set) if (!CATALOGUE_KEYS.has(spec.obis)) CATALOGUE_KEYS.set(spec.obis, spec.key);
}

/**
 * Telemetry key of a captured register by its OBIS: the register catalogue's key (1.0.1.8.0.255 -> active_energy;
 * channel B ignored, so Microstar's 1.1.1.8.0.255 too), else "obis_<a>_<b>_<c>_<d>_<e>_<f>".
 */
export function defaultProfileKey(obis: string): string {
  const exact = CATALOGUE_KEYS.get(obis);
  if (exact) return exact;
  const parts = obis.split(".");
  if (parts.length === 6 && parts[0] === "1") {
    const channelZero = CATALOGUE_KEYS.get([parts[0], "0", ...parts.slice(2)].join("."));
    if (channelZero) return channelZero;
  }
  return `obis_${parts.join("_")}`;
}
