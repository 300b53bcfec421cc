// A plausible 3-phase meter as a COSEM object model: registers with scaler/unit, identity data, a clock and a
// load profile. The object table is shared by all meters with the same OBIS channel; a meter itself is its
// seed-derived physics plus a few identity strings, so a thousand meters fit in one process.
import { DataAccessResult } from "../dlms/apdu/data-access-result.js";
import type { GetDataResult, LogicalName, SelectiveAccess } from "../dlms/apdu/types.js";
import type { DlmsData } from "../dlms/axdr/types.js";
import { ClockStatus, dateTimeFromEpochMs, encodeDateTime } from "../dlms/cosem/datetime.js";
import { formatObis, parseObis } from "../dlms/cosem/obis.js";
import { encodeCaptureObjects } from "../dlms/cosem/profile-generic.js";
import { encodeScalerUnit } from "../dlms/cosem/scaler.js";
import type { CosemObjectModel, ObjectListEntry } from "../dlms/server/object-model.js";
import { MeterPhysics } from "./physics.js";
import { entriesInUse, type ProfileSource, readProfileBuffer } from "./profile.js";

export interface MeterModelOptions {
  /** Makes this meter's values differ from every other meter's; the same seed gives the same readings. */
  seed: number;
  serialNumber: string;
  /** Time source in ms since the epoch (tests pass a fake clock). */
  now: () => number;
  /** B group of the electricity (A=1) objects: 0 = "1-0:", 1 = Microstar-style "1-1:". Default 0. */
  obisChannel?: 0 | 1;
  /** Scaler of the voltage registers: -1 (0.1 V) or -2 (0.01 V). Default -1. */
  voltageScaler?: -1 | -2;
  /** Clock deviation in minutes (Blue Book sign: minutes to add to local time for UTC; CET = -60). Default 0. */
  clockDeviationMinutes?: number;
  /** Load profile capture period (s) and rows kept. Defaults 900 s and 96 rows (one day). */
  profilePeriodSeconds?: number;
  profileRows?: number;
  /** First capture of the load profile (meter time, ms): the meter was installed then. Default: a full buffer. */
  profileStartMs?: number;
  /** The meter's clock runs this far ahead of `now` (negative: behind). Default 0. */
  clockOffsetMs?: number;
  /** Daylight saving: "eu" (last Sunday of March to last Sunday of October, 01:00 UTC): deviation one hour less
   * and clock status bit 0x80 meanwhile. Default none. */
  dst?: "eu" | "none";
  firmwareVersion?: string;
}

export const Unit = { wattHour: 30, watt: 27, var: 29, volt: 35, ampere: 33, hertz: 44, none: 255 } as const;

/** Attribute reader: the meter and the read instant in, the value out. */
type AttributeReader = (meter: SimulatedMeter, ms: number, access?: SelectiveAccess) => GetDataResult;

interface ObjectDefinition {
  classId: number;
  version: number;
  logicalName: LogicalName;
  attributes: ReadonlyMap<number, AttributeReader>;
}

const ok = (data: DlmsData): GetDataResult => ({ ok: true, data });
const octets = (text: string): DlmsData => ({ type: "octet-string", value: new TextEncoder().encode(text) });

/** The electricity objects get the configured channel in group B; abstract (A=0) objects never do. */
function obis(text: string, channel: number): LogicalName {
  const ln = parseObis(text);
  if (ln[0] === 1) ln[1] = channel;
  return ln;
}

function register(
  ln: LogicalName,
  scaler: number | ((m: SimulatedMeter) => number),
  unit: number,
  value: (m: SimulatedMeter, ms: number) => DlmsData,
): ObjectDefinition {
  const scalerOf = typeof scaler === "number" ? () => scaler : scaler;
  return {
    classId: 3,
    version: 0,
    logicalName: ln,
    attributes: new Map<number, AttributeReader>([
      [2, (m, ms) => ok(value(m, ms))],
      [3, (m) => ok(encodeScalerUnit(scalerOf(m), unit))],
    ]),
  };
}

function data(ln: LogicalName, value: (m: SimulatedMeter) => DlmsData): ObjectDefinition {
  return { classId: 1, version: 0, logicalName: ln, attributes: new Map([[2, (m) => ok(value(m))]]) };
}

/** Value in register units for a scaler: 230.4 V with scaler -1 is 2304. */
const scaled = (value: number, scaler: number) => Math.round(value / 10 ** scaler);
const u16 = (value: number): DlmsData => ({ type: "long-unsigned", value: Math.max(0, Math.min(0xffff, value)) });
const i32 = (value: number): DlmsData => ({ type: "double-long", value });
const u32 = (value: number): DlmsData => ({
  type: "double-long-unsigned",
  value: Math.max(0, Math.min(0xffff_ffff, value)),
});

/**
 * Clock daylight_savings_begin/end (attributes 5/6): the EU rule as meters configure it, a recurring date-time with
 * year, deviation and status not specified: the first Sunday on or after 25 March at 02:00 / 25 October at 03:00
 * (i.e. the last Sunday). daylight_savings_deviation (7) and _enabled (8) follow the meter's dst option.
 */
const DST_BEGIN = encodeDateTime({ month: 3, day: 25, dayOfWeek: 7, hour: 2, minute: 0, second: 0, hundredths: 0 });
const DST_END = encodeDateTime({ month: 10, day: 25, dayOfWeek: 7, hour: 3, minute: 0, second: 0, hundredths: 0 });
const DST_DEVIATION_MINUTES = 60;

const CURRENT_SCALER = -2;
const FREQUENCY_SCALER = -2;
const POWER_FACTOR_SCALER = -3;
const PHASE_C = [32, 52, 72] as const; // voltage L1..L3
const CURRENT_C = [31, 51, 71] as const;

export const ObisCode = {
  clock: "0.0.1.0.0.255",
  serialNumber: "0.0.96.1.0.255",
  logicalDeviceName: "0.0.42.0.0.255",
  firmware: "1.0.0.2.0.255",
  activePower: "1.0.1.7.0.255",
  activeEnergyImport: "1.0.1.8.0.255",
  reactivePower: "1.0.3.7.0.255",
  powerFactor: "1.0.13.7.0.255",
  frequency: "1.0.14.7.0.255",
  loadProfile: "1.0.99.1.0.255",
} as const;

function buildCatalogue(channel: number): ObjectDefinition[] {
  const at = (text: string) => obis(text, channel);
  const clockLn = at(ObisCode.clock);
  const energyLn = at(ObisCode.activeEnergyImport);
  const powerLn = at(ObisCode.activePower);
  const captureObjects = encodeCaptureObjects(
    [
      [8, clockLn],
      [3, energyLn],
      [3, powerLn],
    ].map(([classId, ln]) => ({
      classId: classId as number,
      obis: formatObis(ln as LogicalName),
      attributeId: 2,
      dataIndex: 0,
    })),
  );
  return [
    data(at(ObisCode.serialNumber), (m) => octets(m.serialNumber)),
    data(at(ObisCode.logicalDeviceName), (m) => octets(m.logicalDeviceName)),
    data(at(ObisCode.firmware), (m) => ({ type: "visible-string", value: m.firmwareVersion })),
    {
      classId: 8,
      version: 0,
      logicalName: clockLn,
      attributes: new Map<number, AttributeReader>([
        [2, (m, ms) => ok(m.clockData(m.meterTime(ms)))],
        [3, (m) => ok({ type: "long", value: m.clockDeviationMinutes })],
        [4, () => ok({ type: "unsigned", value: 0 })],
        [5, () => ok({ type: "octet-string", value: DST_BEGIN })],
        [6, () => ok({ type: "octet-string", value: DST_END })],
        [7, (m) => ok({ type: "integer", value: m.dst === "eu" ? DST_DEVIATION_MINUTES : 0 })],
        [8, (m) => ok({ type: "boolean", value: m.dst === "eu" })],
        [9, () => ok({ type: "enum", value: 1 })], // internal crystal
      ]),
    },
    ...PHASE_C.map((c, k) =>
      register(
        at(`1.0.${c}.7.0.255`),
        (m) => m.voltageScaler,
        Unit.volt,
        (m, ms) => u16(scaled(m.physics.read(ms).phases[k]!.voltage, m.voltageScaler)),
      ),
    ),
    ...CURRENT_C.map((c, k) =>
      register(at(`1.0.${c}.7.0.255`), CURRENT_SCALER, Unit.ampere, (m, ms) =>
        u16(scaled(m.physics.read(ms).phases[k]!.current, CURRENT_SCALER)),
      ),
    ),
    register(at(ObisCode.frequency), FREQUENCY_SCALER, Unit.hertz, (m, ms) =>
      u16(scaled(m.physics.read(ms).frequency, FREQUENCY_SCALER)),
    ),
    register(powerLn, 0, Unit.watt, (m, ms) => i32(Math.round(m.physics.activePower(ms)))),
    register(energyLn, 0, Unit.wattHour, (m, ms) => u32(Math.floor(m.physics.activeEnergy(ms)))),
    register(at(ObisCode.reactivePower), 0, Unit.var, (m, ms) => i32(Math.round(m.physics.read(ms).reactivePower))),
    register(at(ObisCode.powerFactor), POWER_FACTOR_SCALER, Unit.none, (m, ms) => ({
      type: "long",
      value: scaled(m.physics.read(ms).powerFactor, POWER_FACTOR_SCALER),
    })),
    {
      classId: 7,
      version: 1,
      logicalName: at(ObisCode.loadProfile),
      attributes: new Map<number, AttributeReader>([
        [2, (m, ms, access) => readProfileBuffer(m.profile, m.meterTime(ms), access)],
        [3, () => ok(captureObjects)],
        [4, (m) => ok(u32(m.profilePeriodSeconds))],
        [5, () => ok({ type: "enum", value: 1 })], // fifo
        [
          6,
          () =>
            ok({
              type: "structure",
              value: [
                u16(0),
                { type: "octet-string", value: new Uint8Array(6) },
                { type: "integer", value: 0 },
                u16(0),
              ],
            }),
        ],
        [7, (m, ms) => ok(u32(entriesInUse(m.profile, m.meterTime(ms))))],
        [8, (m) => ok(u32(m.profileRowCount))],
      ]),
    },
  ];
}

const READ_ONLY = 1;

function objectListEntry(o: ObjectDefinition): ObjectListEntry {
  const isProfileBuffer = (id: number) => o.classId === 7 && id === 2;
  return {
    classId: o.classId,
    version: o.version,
    obis: formatObis(o.logicalName),
    attributes: [1, ...o.attributes.keys()].map((id) =>
      isProfileBuffer(id) ? { id, access: READ_ONLY, selectors: [1, 2] } : { id, access: READ_ONLY },
    ),
    methods: [],
  };
}

/** One object table per OBIS channel, shared by every meter using it. */
const catalogues = new Map<
  number,
  { objects: ObjectDefinition[]; byName: Map<string, ObjectDefinition>; list: ObjectListEntry[] }
>();

function catalogue(channel: number) {
  let c = catalogues.get(channel);
  if (!c) {
    const objects = buildCatalogue(channel);
    c = {
      objects,
      byName: new Map(objects.map((o) => [formatObis(o.logicalName), o])),
      list: objects.map(objectListEntry),
    };
    catalogues.set(channel, c);
  }
  return c;
}

export class SimulatedMeter implements CosemObjectModel {
  readonly physics: MeterPhysics;
  readonly serialNumber: string;
  readonly logicalDeviceName: string;
  readonly firmwareVersion: string;
  readonly voltageScaler: number;
  readonly clockDeviationMinutes: number;
  readonly profilePeriodSeconds: number;
  readonly profileRowCount: number;
  readonly clockOffsetMs: number;
  readonly dst: "eu" | "none";
  readonly profile: ProfileSource;
  private readonly now: () => number;
  private readonly table: ReturnType<typeof catalogue>;

  constructor(options: MeterModelOptions) {
    this.physics = new MeterPhysics(options.seed);
    this.serialNumber = options.serialNumber;
    // 62056-6-2: three-letter manufacturer id followed by up to 13 characters, 16 octets in all.
    this.logicalDeviceName = `SIM${options.serialNumber.slice(-13).padStart(13, "0")}`;
    this.firmwareVersion = options.firmwareVersion ?? "SIM-1.0.0";
    this.voltageScaler = options.voltageScaler ?? -1;
    this.clockDeviationMinutes = options.clockDeviationMinutes ?? 0;
    this.profilePeriodSeconds = options.profilePeriodSeconds ?? 900;
    this.profileRowCount = options.profileRows ?? 96;
    this.clockOffsetMs = options.clockOffsetMs ?? 0;
    this.dst = options.dst ?? "none";
    this.now = options.now;
    const periodMs = this.profilePeriodSeconds * 1000;
    this.table = catalogue(options.obisChannel ?? 0);
    const captured = this.table.objects.find((o) => o.classId === 7)?.attributes.get(3)?.(this, 0);
    this.profile = {
      captureObjects: captured?.ok && captured.data.type === "array" ? captured.data.value : [],
      periodMs,
      capacity: this.profileRowCount,
      startMs: options.profileStartMs ?? Number.NEGATIVE_INFINITY,
      clock: (ms) => this.clockData(ms),
      values: (ms) => [u32(Math.floor(this.physics.activeEnergy(ms))), i32(Math.round(this.physics.activePower(ms)))],
    };
  }

  get(classId: number, logicalName: LogicalName, attributeId: number, access?: SelectiveAccess): GetDataResult {
    const object = logicalName.length === 6 ? this.table.byName.get(formatObis(logicalName)) : undefined;
    if (!object) return { ok: false, error: DataAccessResult["object-undefined"] };
    if (object.classId !== classId) return { ok: false, error: DataAccessResult["object-class-inconsistent"] };
    if (attributeId === 1) return ok({ type: "octet-string", value: object.logicalName });
    const read = object.attributes.get(attributeId);
    if (!read) return { ok: false, error: DataAccessResult["read-write-denied"] };
    if (access && !(object.classId === 7 && attributeId === 2)) {
      return { ok: false, error: DataAccessResult["read-write-denied"] }; // selective access only on the profile buffer
    }
    return read(this, this.now(), access);
  }

  list(): readonly ObjectListEntry[] {
    return this.table.list;
  }

  /** The meter's own clock at real time `ms` (it may run ahead or behind). */
  meterTime(ms: number): number {
    return ms + this.clockOffsetMs;
  }

  /** Deviation in force at meter time `ms` (one hour less during EU summer time). */
  deviationAt(ms: number): { deviation: number; summer: boolean } {
    const summer = this.dst === "eu" && isEuSummerTime(ms);
    return { deviation: this.clockDeviationMinutes - (summer ? 60 : 0), summer };
  }

  /** Clock attribute 2 at meter time `ms`: local time as a 12-octet date-time (octet-string, as most meters send). */
  clockData(ms: number): DlmsData {
    const { deviation, summer } = this.deviationAt(ms);
    const dt = { ...dateTimeFromEpochMs(ms, deviation), clockStatus: summer ? ClockStatus.daylightSavingActive : 0 };
    return { type: "octet-string", value: encodeDateTime(dt) };
  }
}

/** Last Sunday of a month (UTC date) at 01:00 UTC, when EU summer time starts (March) and ends (October). */
function lastSundayAt1Utc(year: number, month: number): number {
  const lastDay = new Date(Date.UTC(year, month + 1, 0, 1));
  return lastDay.getTime() - lastDay.getUTCDay() * 86_400_000;
}

export function isEuSummerTime(ms: number): boolean {
  const year = new Date(ms).getUTCFullYear();
  return ms >= lastSundayAt1Utc(year, 2) && ms < lastSundayAt1Utc(year, 9);
}
