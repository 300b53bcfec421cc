// Register scaler_unit (62056-6-2 class 3 attribute 3): value × 10^scaler, applied as an exact decimal shift so
// 12345 with scaler -2 is 123.45, not 123.45000000000002 as 12345 * 0.01 would give.
import type { DlmsData } from "../axdr/types.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { unitSymbol } from "./units.js";

export interface ScalerUnit {
  scaler: number;
  unit: number;
  unitSymbol: string;
}

/**
 * value × 10^scaler as the double nearest to the exact decimal result. Shifting the exponent of the decimal text
 * and parsing once rounds only once (JS number parsing is correctly rounded); works for bigint beyond 2^53.
 */
export function applyScaler(value: number | bigint, scaler: number): number {
  if (!Number.isInteger(scaler) || Math.abs(scaler) > 400) {
    throw new LocalProtocolError(`scaler must be an integer (a meter sends -128..127), got ${scaler}`);
  }
  if (typeof value === "number" && !Number.isFinite(value)) return value;
  if (scaler === 0) return Number(value);
  // String(number) is either plain ("123.45") or exponential ("1.5e+21", "1e-7"); bigint is always plain.
  const [mantissa, exponent = "0"] = String(value).split("e");
  return Number(`${mantissa}e${Number(exponent) + scaler}`);
}

const INTEGER_TYPES = new Set(["integer", "long", "double-long", "unsigned", "long-unsigned", "double-long-unsigned"]);

/** The number carried by a numeric Data value (integers, 64-bit integers as bigint, floats, enum, bcd). */
export function numericValue(d: DlmsData): number | bigint | undefined {
  switch (d.type) {
    case "integer":
    case "long":
    case "double-long":
    case "unsigned":
    case "long-unsigned":
    case "double-long-unsigned":
    case "enum":
    case "float32":
    case "float64":
    case "long64":
    case "long64-unsigned":
      return d.value;
    case "bcd":
      return bcdValue(d.value);
    default:
      return undefined;
  }
}

// bcd carries two decimal digits in one byte; a nibble above 9 is not a digit.
function bcdValue(byte: number): number | undefined {
  const hi = byte >> 4;
  const lo = byte & 0x0f;
  return hi > 9 || lo > 9 ? undefined : hi * 10 + lo;
}

/** Decodes scaler_unit: structure { scaler integer, unit enum }. Tolerates other integer types for either field. */
export function decodeScalerUnit(d: DlmsData): ScalerUnit {
  if (d.type !== "structure" || d.value.length !== 2) {
    const got = d.type === "structure" ? `structure of ${d.value.length}` : d.type;
    throw new DecodeError("malformed", `scaler_unit: expected structure {integer, enum}, got ${got}`);
  }
  const [s, u] = d.value as [DlmsData, DlmsData];
  if (!INTEGER_TYPES.has(s.type) || typeof (s as { value: unknown }).value !== "number") {
    throw new DecodeError("malformed", `scaler_unit: scaler must be an integer, got ${s.type}`);
  }
  if (u.type !== "enum" && !INTEGER_TYPES.has(u.type)) {
    throw new DecodeError("malformed", `scaler_unit: unit must be an enum, got ${u.type}`);
  }
  const scaler = (s as { value: number }).value;
  const unit = (u as { value: number }).value;
  if (scaler < -128 || scaler > 127)
    throw new DecodeError("malformed", `scaler_unit: scaler ${scaler} is not in -128..127`);
  return { scaler, unit, unitSymbol: unitSymbol(unit) };
}

/** The scaled number of a register value, or undefined if the value is not numeric. Without scaler_unit: unscaled. */
export function scaledValue(d: DlmsData, scalerUnit?: Pick<ScalerUnit, "scaler">): number | undefined {
  const n = numericValue(d);
  if (n === undefined) return undefined;
  return applyScaler(n, scalerUnit?.scaler ?? 0);
}

/** Encodes scaler_unit (for the simulator). */
export function encodeScalerUnit(scaler: number, unit: number): DlmsData {
  return {
    type: "structure",
    value: [
      { type: "integer", value: scaler },
      { type: "enum", value: unit },
    ],
  };
}
