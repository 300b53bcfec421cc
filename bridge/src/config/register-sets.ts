// Registers to poll: a named set ("default", "three-phase") or a list "key:OBIS[:class[:attr]],..." that may
// also name sets. Class 3 (Register) attribute 2 (value) unless given.
import type { RegisterSpec } from "../model.js";
import { normalizeObis } from "./obis.js";

const REGISTER_CLASS = 3;
const VALUE_ATTRIBUTE = 2;

function register(key: string, obis: string): RegisterSpec {
  return { key, obis, classId: REGISTER_CLASS, attributeId: VALUE_ATTRIBUTE };
}

const DEFAULT_SET: readonly RegisterSpec[] = [
  register("voltage", "1.0.32.7.0.255"),
  register("current", "1.0.31.7.0.255"),
  register("frequency", "1.0.14.7.0.255"),
  register("active_power", "1.0.1.7.0.255"),
  register("active_energy", "1.0.1.8.0.255"),
];

export const REGISTER_SETS: Readonly<Record<string, readonly RegisterSpec[]>> = {
  default: DEFAULT_SET,
  "three-phase": [
    ...DEFAULT_SET,
    register("voltage_l2", "1.0.52.7.0.255"),
    register("voltage_l3", "1.0.72.7.0.255"),
    register("current_l2", "1.0.51.7.0.255"),
    register("current_l3", "1.0.71.7.0.255"),
    register("power_factor", "1.0.13.7.0.255"),
    register("reactive_power", "1.0.3.7.0.255"),
  ],
};

/** Keys the telemetry payload uses itself. */
const RESERVED_KEYS = new Set(["meter", "ts"]);
const KEY_PATTERN = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface ParsedRegisters {
  registers: RegisterSpec[];
  errors: string[];
}

/** Parses the `registers=` value; every problem is reported (each naming its key), none thrown. */
export function parseRegisters(text: string): ParsedRegisters {
  const registers: RegisterSpec[] = [];
  const errors: string[] = [];
  const items = text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item !== "");
  if (items.length === 0) errors.push("registers is empty");
  for (const item of items) {
    if (!item.includes(":")) {
      const set = Object.hasOwn(REGISTER_SETS, item) ? REGISTER_SETS[item] : undefined; // not "constructor"...
      if (set) registers.push(...set.map((spec) => ({ ...spec })));
      else errors.push(`unknown register set '${item}' (known: ${Object.keys(REGISTER_SETS).join(", ")})`);
      continue;
    }
    const parsed = parseRegisterItem(item);
    if (typeof parsed === "string") errors.push(parsed);
    else registers.push(parsed);
  }
  const seen = new Set<string>();
  for (const { key } of registers) {
    if (seen.has(key)) errors.push(`register key '${key}' is used more than once`);
    seen.add(key);
  }
  return { registers: errors.length === 0 ? shared(registers) : registers, errors };
}

/**
 * One frozen list per distinct register list: 10,000 meters on the default set share one list, and with it what
 * the poller derives per list (parsed OBIS, request plan, With-List split: see client/reads.ts), instead of each
 * holding its own copies. Frozen, so no meter can change another's registers.
 */
const sharedLists = new Map<string, RegisterSpec[]>();
function shared(registers: RegisterSpec[]): RegisterSpec[] {
  const signature = JSON.stringify(registers.map((r) => [r.key, r.obis, r.classId, r.attributeId]));
  let list = sharedLists.get(signature);
  if (list === undefined) {
    list = Object.freeze(registers.map((spec) => Object.freeze({ ...spec }))) as RegisterSpec[];
    sharedLists.set(signature, list);
  }
  return list;
}

/** "key:OBIS[:class[:attr]]" where OBIS may itself hold a colon ("1-1:32.7.0"). Returns an error message on failure. */
function parseRegisterItem(item: string): RegisterSpec | string {
  const [key = "", ...rest] = item.split(":");
  if (!KEY_PATTERN.test(key)) return `register key '${key}' must start with a letter and hold only letters, digits, _`;
  if (RESERVED_KEYS.has(key)) return `register key '${key}' is reserved (the payload uses it)`;
  const obisParts = rest[0] !== undefined && /^\d+-\d+$/.test(rest[0]) ? 2 : 1;
  const obisText = rest.slice(0, obisParts).join(":");
  const [classText, attributeText, ...extra] = rest.slice(obisParts);
  if (extra.length > 0) return `register '${key}': too many ':' parts in '${item}' (key:OBIS[:class[:attr]])`;
  let obis: string;
  try {
    obis = normalizeObis(obisText);
  } catch (error) {
    return `register '${key}': ${(error as Error).message}`;
  }
  const classId = classText === undefined ? REGISTER_CLASS : Number(classText);
  if (!Number.isInteger(classId) || classId < 1 || classId > 0xffff) {
    return `register '${key}': class '${classText}' is not an interface class number (1..65535)`;
  }
  const attributeId = attributeText === undefined ? VALUE_ATTRIBUTE : Number(attributeText);
  if (!Number.isInteger(attributeId) || attributeId < 1 || attributeId > 127) {
    return `register '${key}': attribute '${attributeText}' is not an attribute number (1..127)`;
  }
  return { key, obis, classId, attributeId };
}
