// Reading configured registers: one getMany per poll (GET-with-list when granted), scaler_unit read once per
// association and applied exactly. Shared by the technician CLI and the bridge's poller.
import { dataAccessResultName } from "../dlms/apdu/data-access-result.js";
import type { AttributeRequest, GetDataResult } from "../dlms/apdu/types.js";
import type { DlmsData } from "../dlms/axdr/types.js";
import { parseObis } from "../dlms/cosem/obis.js";
import { applyScaler, decodeScalerUnit, numericValue } from "../dlms/cosem/scaler.js";
import { InternTable } from "../dlms/intern.js";
import type { RegisterSpec } from "../model.js";
import type { DlmsClientApi } from "./types.js";

/**
 * Where scaler_unit lives, per interface class, and which attributes it scales: Register (3) and Extended
 * register (4) keep it in attribute 3 for value (2); Demand register (5) in attribute 4 for current and last
 * average (2, 3).
 */
export const SCALER_UNIT_OF_CLASS: ReadonlyMap<number, { attribute: number; scales: readonly number[] }> = new Map([
  [3, { attribute: 3, scales: [2] }],
  [4, { attribute: 3, scales: [2] }],
  [5, { attribute: 4, scales: [2, 3] }],
]);

/** Shared by every meter that answered the same (frozen: never change one). */
export interface ScalerUnit {
  readonly scaler: number;
  /** Unit enumeration code (62056-6-2), e.g. 35 = V. */
  readonly unitCode: number;
  readonly unit: string;
}

/**
 * Scaler/unit per "classId:obis", valid for one association (create a new one on every (re)connect).
 *
 * Key/value pairs sit in one small array, searched in order: a meter has a handful, and an empty Map alone took
 * ≈ 0.26 kB on every meter (BENCHMARKS.md, issue 9, seventh round). Past SMALL_CACHE pairs a Map takes over, so a
 * meter with hundreds of registers still finds its scalers in O(1).
 */
export class ScalerCache {
  private pairs: (string | ScalerUnit)[] = [];
  private map: Map<string, ScalerUnit> | undefined;

  get(key: string): ScalerUnit | undefined {
    if (this.map) return this.map.get(key);
    const pairs = this.pairs;
    for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === key) return pairs[i + 1] as ScalerUnit;
    return undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: ScalerUnit): void {
    if (this.map) {
      this.map.set(key, value);
      return;
    }
    const pairs = this.pairs;
    for (let i = 0; i < pairs.length; i += 2) {
      if (pairs[i] === key) {
        pairs[i + 1] = value;
        return;
      }
    }
    if (pairs.length < 2 * SMALL_CACHE) {
      // A new array of exactly the pairs (push would leave 30 spare slots for the association's life).
      this.pairs = pairs.concat(key, value);
      return;
    }
    this.map = new Map(this.entries());
    this.map.set(key, value);
    this.pairs = [];
  }

  *entries(): IterableIterator<[string, ScalerUnit]> {
    if (this.map) yield* this.map;
    else
      for (let i = 0; i < this.pairs.length; i += 2) yield [this.pairs[i] as string, this.pairs[i + 1] as ScalerUnit];
  }

  get size(): number {
    return this.map ? this.map.size : this.pairs.length / 2;
  }
}

const SMALL_CACHE = 16;

export type AttributeReading =
  | { ok: true; data: DlmsData; scalerUnit?: ScalerUnit }
  | { ok: false; error: string; reason: string; dataAccessResult?: number };

export type RegisterReading =
  | { value: number; unit: string; scaler?: number; raw: DlmsData }
  | { error: string; reason: string };

/**
 * Reads every spec's attribute plus, for the value of a scaled class whose scaler is not cached yet, its
 * scaler_unit. Each attribute is requested once per call, even when several specs need it (attr 2 and an explicit
 * 3/OBIS/3 share the scaler_unit request).
 *
 * With multiple-references, everything goes in one getMany (GET-with-list, scaler right after its value). Items
 * that failed in the list are re-read one by one before they count as failed: some servers fail every item after
 * a missing one. A scaler_unit is requested singly only when its value was read, so a missing object costs one
 * request, not two. Transport-level failures (timeout, connection lost) reject: the whole poll failed.
 * Per-object failures come back per key, naming the attribute that failed.
 */
export async function readAttributes(
  client: DlmsClientApi,
  specs: readonly RegisterSpec[],
  scalerCache: ScalerCache = new ScalerCache(),
): Promise<Record<string, AttributeReading>> {
  const { requests, plan } = planFor(specs, scalerCache);
  const results: (GetDataResult | undefined)[] = new Array(requests.length);
  let readSingly: Set<number> | undefined;
  const single = async (index: number) => {
    if (results[index]?.ok) return;
    readSingly ??= new Set();
    if (readSingly.has(index)) return;
    readSingly.add(index);
    results[index] = (await client.getMany([requests[index]!]))[0];
  };
  if (requests.length > 1 && client.association?.multipleReferences === true) {
    const listed = await client.getMany(requests);
    for (let i = 0; i < listed.length; i++) results[i] = listed[i];
  }
  // Values first (in spec order, each followed by its scaler): unread ones or ones the list failed.
  // (Checked here first: after a good With-List, no single read and no promise per register.)
  for (const { valueIndex, scalerIndex } of plan) {
    if (!results[valueIndex]?.ok) await single(valueIndex);
    if (scalerIndex !== undefined && results[valueIndex]?.ok && !results[scalerIndex]?.ok) await single(scalerIndex);
  }

  const out: Record<string, AttributeReading> = {};
  for (const { spec, valueIndex, scalerIndex, scalerKey } of plan) {
    const value = results[valueIndex];
    if (!value?.ok) {
      out[spec.key] = attributeFailure(`attr ${spec.attributeId}`, value?.error);
      continue;
    }
    if (scalerIndex !== undefined && !scalerCache.has(scalerKey!)) {
      const scaler = toScalerUnit(results[scalerIndex]);
      if (!scaler.ok) {
        const what = `scaler_unit (attr ${requests[scalerIndex]!.attributeId})`;
        out[spec.key] = { ok: false, error: `${what}: ${scaler.error}`, reason: scaler.reason };
        continue;
      }
      scalerCache.set(scalerKey!, scaler.value);
    }
    const scalerUnit = scalerKey === undefined ? undefined : scalerCache.get(scalerKey);
    out[spec.key] = scalerUnit ? { ok: true, data: value.data, scalerUnit } : { ok: true, data: value.data };
  }
  return out;
}

interface PlanStep {
  spec: RegisterSpec;
  valueIndex: number;
  /** Index of the scaler_unit request, when this poll reads it. */
  scalerIndex?: number;
  /** Scaler cache key, for a value whose class is scaled. */
  scalerKey?: string;
}

interface ReadPlan {
  /** Each attribute once, even when several specs need it (attr 2 and an explicit 3/OBIS/3 share a scaler). */
  requests: AttributeRequest[];
  plan: PlanStep[];
}

/**
 * The requests of one poll. Once every scaler is cached (every poll after an association's first), the plan only
 * depends on the spec list, so it is built once per list and reused: the same `requests` array each poll also lets
 * the client reuse its With-List split (see getMany).
 */
const steadyPlans = new WeakMap<readonly RegisterSpec[], { plan: ReadPlan; built: SpecFields[] }>();

type SpecFields = Pick<RegisterSpec, "key" | "classId" | "obis" | "attributeId">;

function planFor(specs: readonly RegisterSpec[], scalerCache: ScalerCache): ReadPlan {
  const cached = steadyPlans.get(specs);
  if (
    cached &&
    sameSpecs(specs, cached.built) &&
    cached.plan.plan.every((s) => !s.scalerKey || scalerCache.has(s.scalerKey))
  ) {
    return cached.plan;
  }
  const requests: AttributeRequest[] = [];
  const indexByTarget = new Map<string, number>();
  const indexOf = (spec: RegisterSpec, attributeId: number): number => {
    const target = `${spec.classId}/${spec.obis}/${attributeId}`;
    let index = indexByTarget.get(target);
    if (index === undefined) {
      index = requests.push({ classId: spec.classId, instanceId: instanceIdOf(spec), attributeId }) - 1;
      indexByTarget.set(target, index);
    }
    return index;
  };
  const plan: PlanStep[] = [];
  let readsScalers = false;
  for (const spec of specs) {
    const valueIndex = indexOf(spec, spec.attributeId);
    if (!needsScaler(spec)) {
      plan.push({ spec, valueIndex });
      continue;
    }
    const scalerKey = cacheKey(spec);
    if (scalerCache.has(scalerKey)) plan.push({ spec, valueIndex, scalerKey });
    else {
      readsScalers = true;
      plan.push({
        spec,
        valueIndex,
        scalerIndex: indexOf(spec, SCALER_UNIT_OF_CLASS.get(spec.classId)!.attribute),
        scalerKey,
      });
    }
  }
  const built = { requests, plan };
  if (!readsScalers) {
    const fields = specs.map(({ key, classId, obis, attributeId }) => ({ key, classId, obis, attributeId }));
    steadyPlans.set(specs, { plan: built, built: fields });
  }
  return built;
}

/** The specs still say what the plan was built from (a spec edited in place, e.g. another OBIS, invalidates it). */
function sameSpecs(specs: readonly RegisterSpec[], built: readonly SpecFields[]): boolean {
  if (specs.length !== built.length) return false;
  for (let i = 0; i < specs.length; i++) {
    const a = specs[i]!;
    const b = built[i]!;
    if (a.key !== b.key || a.classId !== b.classId || a.obis !== b.obis || a.attributeId !== b.attributeId)
      return false;
  }
  return true;
}

/** Like readAttributes, but each value is a number with the scaler applied exactly (for telemetry). */
export async function readRegisters(
  client: DlmsClientApi,
  specs: readonly RegisterSpec[],
  scalerCache?: ScalerCache,
): Promise<Record<string, RegisterReading>> {
  const readings = await readAttributes(client, specs, scalerCache);
  const out: Record<string, RegisterReading> = {};
  for (const spec of specs) {
    const reading = readings[spec.key]!;
    if (!reading.ok) {
      out[spec.key] = { error: reading.error, reason: reading.reason };
      continue;
    }
    const raw = numericValue(reading.data);
    if (raw === undefined) {
      out[spec.key] = { error: `${spec.obis} holds a ${reading.data.type}, not a number`, reason: "not-numeric" };
      continue;
    }
    const su = reading.scalerUnit;
    out[spec.key] = su
      ? { value: applyScaler(raw, su.scaler), unit: su.unit, scaler: su.scaler, raw: reading.data }
      : { value: Number(raw), unit: "", raw: reading.data };
  }
  return out;
}

/**
 * The spec's OBIS as bytes, parsed once per spec object (i.e. per meter configuration) rather than on every poll;
 * the encoder only reads it. A WeakMap so a reloaded configuration's specs take their bytes with them.
 */
const instanceIds = new WeakMap<RegisterSpec, { obis: string; id: Uint8Array }>();
function instanceIdOf(spec: RegisterSpec): Uint8Array {
  let parsed = instanceIds.get(spec);
  if (parsed === undefined || parsed.obis !== spec.obis) {
    parsed = { obis: spec.obis, id: parseObis(spec.obis) };
    instanceIds.set(spec, parsed);
  }
  return parsed.id;
}

function needsScaler(spec: RegisterSpec): boolean {
  return SCALER_UNIT_OF_CLASS.get(spec.classId)?.scales.includes(spec.attributeId) ?? false;
}

/**
 * Scaler cache keys and scaler/unit values are the same for thousands of meters of one type: each is shared (one
 * string, one frozen object) instead of kept per meter (≈ 0.7 kB per meter of 5 registers, BENCHMARKS.md
 * "Sixth round"). The tables hold what meters answered, so they are capped: past the cap a value is kept unshared.
 */
const sharedKeys = new InternTable<string>();
const sharedScalerUnits = new InternTable<ScalerUnit>();

function cacheKey(spec: RegisterSpec): string {
  const key = `${spec.classId}:${spec.obis}`;
  return sharedKeys.get(key, () => key);
}

function sharedScalerUnit(scaler: number, unitCode: number, unit: string): ScalerUnit {
  return sharedScalerUnits.get(`${scaler}/${unitCode}/${unit}`, () => Object.freeze({ scaler, unitCode, unit }));
}

/** For tests: how many distinct keys and scaler/unit values are shared. */
export function sharedScalerTableSizes(): { keys: number; scalerUnits: number } {
  return { keys: sharedKeys.size, scalerUnits: sharedScalerUnits.size };
}

/** A failed attribute: `what` names it ("attr 2"); `code` is its data-access-result (undefined: no result). */
function attributeFailure(what: string, code: number | undefined): AttributeReading {
  if (code === undefined) return { ok: false, error: `${what}: no result`, reason: "no-result" };
  const name = dataAccessResultName(code);
  return { ok: false, error: `${what}: data-access-result ${name} (${code})`, reason: name, dataAccessResult: code };
}

function toScalerUnit(
  result: GetDataResult | undefined,
): { ok: true; value: ScalerUnit } | { ok: false; error: string; reason: string } {
  if (!result) return { ok: false, error: "no result", reason: "no-result" };
  if (!result.ok) {
    const name = dataAccessResultName(result.error);
    return { ok: false, error: `data-access-result ${name} (${result.error})`, reason: name };
  }
  try {
    const { scaler, unit, unitSymbol } = decodeScalerUnit(result.data);
    return { ok: true, value: sharedScalerUnit(scaler, unit, unitSymbol) };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), reason: "bad-scaler-unit" };
  }
}
