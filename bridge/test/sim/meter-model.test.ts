import { describe, expect, it } from "vitest";
import type { GetDataResult, SelectiveAccess } from "../../src/dlms/apdu/types.js";
import type { DlmsData } from "../../src/dlms/axdr/types.js";
import {
  dateTimeFromData,
  dateTimeFromEpochMs,
  dateTimeToEpochMs,
  encodeDateTime,
} from "../../src/dlms/cosem/datetime.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { decodeScalerUnit, scaledValue } from "../../src/dlms/cosem/scaler.js";
import { type MeterModelOptions, SimulatedMeter, Unit } from "../../src/sim/meter-model.js";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

function fakeClock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function meter(overrides: Partial<MeterModelOptions> = {}) {
  const clock = fakeClock();
  return { clock, meter: new SimulatedMeter({ seed: 1, serialNumber: "12345678", now: clock.now, ...overrides }) };
}

function value(r: GetDataResult): DlmsData {
  if (!r.ok) throw new Error(`data-access-result ${r.error}`);
  return r.data;
}

/** Reads a register the way the bridge will: value and scaler_unit, scaled. */
function readRegister(m: SimulatedMeter, obis: string): { value: number; unit: number } {
  const ln = parseObis(obis);
  const su = decodeScalerUnit(value(m.get(3, ln, 3)));
  return { value: scaledValue(value(m.get(3, ln, 2)), su)!, unit: su.unit };
}

describe("SimulatedMeter registers", () => {
  const cases = [
    { obis: "1.0.32.7.0.255", unit: Unit.volt, min: 215, max: 245 },
    { obis: "1.0.52.7.0.255", unit: Unit.volt, min: 215, max: 245 },
    { obis: "1.0.72.7.0.255", unit: Unit.volt, min: 215, max: 245 },
    { obis: "1.0.31.7.0.255", unit: Unit.ampere, min: 0.3, max: 20 },
    { obis: "1.0.51.7.0.255", unit: Unit.ampere, min: 0.3, max: 20 },
    { obis: "1.0.71.7.0.255", unit: Unit.ampere, min: 0.3, max: 20 },
    { obis: "1.0.14.7.0.255", unit: Unit.hertz, min: 49.9, max: 50.1 },
    { obis: "1.0.1.7.0.255", unit: Unit.watt, min: 300, max: 10_000 },
    { obis: "1.0.3.7.0.255", unit: Unit.var, min: 10, max: 6000 },
    { obis: "1.0.13.7.0.255", unit: Unit.none, min: 0.85, max: 1 },
    { obis: "1.0.1.8.0.255", unit: Unit.wattHour, min: 1e6, max: 2e9 },
  ];
  for (const seed of [1, 2, 3, 99]) {
    it.each(cases)(`seed ${seed}: $obis is plausible with unit $unit`, ({ obis, unit, min, max }) => {
      const { meter: m, clock } = meter({ seed });
      for (let i = 0; i < 20; i++) {
        const r = readRegister(m, obis);
        expect(r.unit).toBe(unit);
        expect(r.value).toBeGreaterThanOrEqual(min);
        expect(r.value).toBeLessThanOrEqual(max);
        clock.advance(37_000);
      }
    });
  }

  it("serves voltage with the configured scaler (-1 or -2) and the same physical value", () => {
    const a = meter({ voltageScaler: -1 }).meter;
    const b = meter({ voltageScaler: -2 }).meter;
    const su = decodeScalerUnit(value(b.get(3, parseObis("1.0.32.7.0.255"), 3)));
    expect(su).toMatchObject({ scaler: -2, unit: Unit.volt });
    expect(
      Math.abs(readRegister(a, "1.0.32.7.0.255").value - readRegister(b, "1.0.32.7.0.255").value),
    ).toBeLessThanOrEqual(0.05);
  });

  it("keeps active energy monotonic over a simulated week and consistent with the average power", () => {
    const { meter: m, clock } = meter({ seed: 7 });
    let previous = readRegister(m, "1.0.1.8.0.255").value;
    const start = previous;
    let powerSum = 0;
    let samples = 0;
    const step = 17_000;
    for (let t = 0; t < 7 * 86_400_000; t += step) {
      clock.advance(step);
      const energy = readRegister(m, "1.0.1.8.0.255").value;
      expect(energy).toBeGreaterThanOrEqual(previous);
      previous = energy;
      powerSum += m.physics.activePower(clock.now());
      samples++;
    }
    const expectedWh = (powerSum / samples) * 7 * 24;
    expect(previous - start).toBeGreaterThan(expectedWh * 0.98);
    expect(previous - start).toBeLessThan(expectedWh * 1.02);
  });

  it("changes instantaneous values over time", () => {
    const { meter: m, clock } = meter();
    const seen = new Set<number>();
    for (let i = 0; i < 10; i++) {
      seen.add(readRegister(m, "1.0.1.7.0.255").value);
      clock.advance(5000);
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  it("gives different meters different readings and the same seed the same readings", () => {
    const power = (seed: number) => readRegister(meter({ seed }).meter, "1.0.1.7.0.255").value;
    expect(power(1)).not.toBe(power(2));
    expect(power(5)).toBe(power(5));
  });

  it("makes the phase powers add up to the total and P, Q, PF agree", () => {
    const { meter: m } = meter({ seed: 11 });
    const r = m.physics.read(T0);
    expect(r.phases.reduce((s, p) => s + p.activePower, 0)).toBeCloseTo(r.activePower, 6);
    expect(r.activePower / Math.hypot(r.activePower, r.reactivePower)).toBeCloseTo(r.powerFactor, 6);
  });
});

describe("SimulatedMeter identity, clock and errors", () => {
  it("serves serial number, a 16-octet logical device name and the firmware version", () => {
    const { meter: m } = meter();
    expect(value(m.get(1, parseObis("0.0.96.1.0.255"), 2))).toEqual({
      type: "octet-string",
      value: new TextEncoder().encode("12345678"),
    });
    const ldn = value(m.get(1, parseObis("0.0.42.0.0.255"), 2));
    expect(ldn.type === "octet-string" && ldn.value.length).toBe(16);
    expect(value(m.get(1, parseObis("1.0.0.2.0.255"), 2))).toEqual({ type: "visible-string", value: "SIM-1.0.0" });
  });

  it("serves the clock as a date-time octet string with the configured deviation, and the time zone", () => {
    const { meter: m } = meter({ clockDeviationMinutes: -60 });
    const time = dateTimeFromData(value(m.get(8, parseObis("0.0.1.0.0.255"), 2)))!;
    expect(time).toMatchObject({ hour: 13, minute: 0, deviationMinutes: -60 });
    expect(dateTimeToEpochMs(time)).toBe(T0);
    expect(value(m.get(8, parseObis("0.0.1.0.0.255"), 3))).toEqual({ type: "long", value: -60 });
  });

  it("answers object-undefined for a missing object, class-inconsistent for a wrong class, denied for a missing attribute", () => {
    const { meter: m } = meter();
    expect(m.get(3, parseObis("1.0.99.99.0.255"), 2)).toEqual({ ok: false, error: 4 });
    expect(m.get(1, parseObis("1.0.32.7.0.255"), 2)).toEqual({ ok: false, error: 9 });
    expect(m.get(3, parseObis("1.0.32.7.0.255"), 9)).toEqual({ ok: false, error: 3 });
    expect(value(m.get(3, parseObis("1.0.32.7.0.255"), 1))).toEqual({
      type: "octet-string",
      value: parseObis("1.0.32.7.0.255"),
    });
  });

  it("moves the electricity objects to channel 1 with obisChannel 1 (Microstar 1-1: codes)", () => {
    const { meter: m } = meter({ obisChannel: 1 });
    expect(m.get(3, parseObis("1.1.32.7.0.255"), 2).ok).toBe(true);
    expect(m.get(3, parseObis("1.0.32.7.0.255"), 2)).toEqual({ ok: false, error: 4 });
    expect(m.get(1, parseObis("0.0.96.1.0.255"), 2).ok).toBe(true);
    expect(m.list().some((o) => o.obis === "1.1.99.1.0.255")).toBe(true);
  });

  it("lists every object with readable attributes", () => {
    const list = meter().meter.list();
    const names = list.map((o) => `${o.classId}/${o.obis}`);
    expect(names).toEqual(
      expect.arrayContaining([
        "3/1.0.32.7.0.255",
        "3/1.0.1.8.0.255",
        "8/0.0.1.0.0.255",
        "7/1.0.99.1.0.255",
        "1/0.0.96.1.0.255",
      ]),
    );
    const register = list.find((o) => o.obis === "1.0.32.7.0.255")!;
    expect(register.attributes.map((a) => a.id)).toEqual([1, 2, 3]);
    const profile = list.find((o) => o.obis === "1.0.99.1.0.255")!;
    expect(profile.attributes.find((a) => a.id === 2)?.selectors).toEqual([1, 2]);
  });
});

describe("SimulatedMeter load profile", () => {
  const profile = parseObis("1.0.99.1.0.255");
  const rowsOf = (d: DlmsData) =>
    d.type === "array" ? d.value.map((r) => (r.type === "structure" ? r.value : [])) : [];

  it("keeps the last N captures at period boundaries, oldest first, energy rising", () => {
    const { meter: m } = meter({ profileRows: 8, profilePeriodSeconds: 900 });
    const rows = rowsOf(value(m.get(7, profile, 2)));
    expect(rows).toHaveLength(8);
    const times = rows.map((r) => dateTimeToEpochMs(dateTimeFromData(r[0]!)!)!);
    expect(times.at(-1)).toBe(T0); // 12:00 is a 15-minute boundary
    expect(times.slice(1).map((t, i) => t - times[i]!)).toEqual(Array(7).fill(900_000));
    const energies = rows.map((r) => (r[1] as { value: number }).value);
    for (let i = 1; i < energies.length; i++) expect(energies[i]!).toBeGreaterThan(energies[i - 1]!);
    expect(value(m.get(7, profile, 7))).toEqual({ type: "double-long-unsigned", value: 8 });
    expect(value(m.get(7, profile, 4))).toEqual({ type: "double-long-unsigned", value: 900 });
    const capture = value(m.get(7, profile, 3));
    expect(capture.type === "array" && capture.value.length).toBe(3);
  });

  it("selects rows by clock range (selector 1) and rows/columns by entry (selector 2)", () => {
    const { meter: m } = meter({ profileRows: 8 });
    const dt = (ms: number): DlmsData => ({ type: "octet-string", value: encodeDateTime(dateTimeFromEpochMs(ms)) });
    const range: SelectiveAccess = {
      selector: 1,
      parameters: {
        type: "structure",
        value: [{ type: "null-data" }, dt(T0 - 1_800_000), dt(T0 - 900_000), { type: "array", value: [] }],
      },
    };
    const byRange = rowsOf(value(m.get(7, profile, 2, range)));
    expect(byRange.map((r) => dateTimeToEpochMs(dateTimeFromData(r[0]!)!))).toEqual([T0 - 1_800_000, T0 - 900_000]);
    const u32 = (v: number): DlmsData => ({ type: "double-long-unsigned", value: v });
    const u16 = (v: number): DlmsData => ({ type: "long-unsigned", value: v });
    const entry: SelectiveAccess = {
      selector: 2,
      parameters: { type: "structure", value: [u32(7), u32(0), u16(2), u16(2)] },
    };
    const byEntry = rowsOf(value(m.get(7, profile, 2, entry)));
    expect(byEntry).toHaveLength(2);
    expect(byEntry.every((r) => r.length === 1 && r[0]!.type === "double-long-unsigned")).toBe(true);
    expect(m.get(7, profile, 2, { selector: 9, parameters: { type: "null-data" } })).toEqual({ ok: false, error: 3 });
  });
});
