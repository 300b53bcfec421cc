// Unit enumeration of the Register scaler_unit (IEC 62056-6-2, "unit" of scal_unit_type). Codes 58-59 and 68-69
// are reserved; 254 is "other unit", 255 "no unit / count".

export interface UnitInfo {
  readonly symbol: string;
  readonly name: string;
}

export const UNITS: Readonly<Record<number, UnitInfo>> = {
  1: { symbol: "a", name: "time (year)" },
  2: { symbol: "mo", name: "time (month)" },
  3: { symbol: "wk", name: "time (week)" },
  4: { symbol: "d", name: "time (day)" },
  5: { symbol: "h", name: "time (hour)" },
  6: { symbol: "min", name: "time (minute)" },
  7: { symbol: "s", name: "time (second)" },
  8: { symbol: "°", name: "(phase) angle" },
  9: { symbol: "°C", name: "temperature" },
  10: { symbol: "currency", name: "(local) currency" },
  11: { symbol: "m", name: "length" },
  12: { symbol: "m/s", name: "speed" },
  13: { symbol: "m³", name: "volume" },
  14: { symbol: "m³", name: "corrected volume" },
  15: { symbol: "m³/h", name: "volume flux" },
  16: { symbol: "m³/h", name: "corrected volume flux" },
  17: { symbol: "m³/d", name: "volume flux (per day)" },
  18: { symbol: "m³/d", name: "corrected volume flux (per day)" },
  19: { symbol: "l", name: "volume (litre)" },
  20: { symbol: "kg", name: "mass" },
  21: { symbol: "N", name: "force" },
  22: { symbol: "Nm", name: "energy (newton metre)" },
  23: { symbol: "Pa", name: "pressure" },
  24: { symbol: "bar", name: "pressure" },
  25: { symbol: "J", name: "energy (joule)" },
  26: { symbol: "J/h", name: "thermal power" },
  27: { symbol: "W", name: "active power" },
  28: { symbol: "VA", name: "apparent power" },
  29: { symbol: "var", name: "reactive power" },
  30: { symbol: "Wh", name: "active energy" },
  31: { symbol: "VAh", name: "apparent energy" },
  32: { symbol: "varh", name: "reactive energy" },
  33: { symbol: "A", name: "current" },
  34: { symbol: "C", name: "electrical charge" },
  35: { symbol: "V", name: "voltage" },
  36: { symbol: "V/m", name: "electric field strength" },
  37: { symbol: "F", name: "capacitance" },
  38: { symbol: "Ω", name: "resistance" },
  39: { symbol: "Ωm²/m", name: "resistivity" },
  40: { symbol: "Wb", name: "magnetic flux" },
  41: { symbol: "T", name: "magnetic flux density" },
  42: { symbol: "A/m", name: "magnetic field strength" },
  43: { symbol: "H", name: "inductance" },
  44: { symbol: "Hz", name: "frequency" },
  45: { symbol: "1/(Wh)", name: "active energy meter constant" },
  46: { symbol: "1/(varh)", name: "reactive energy meter constant" },
  47: { symbol: "1/(VAh)", name: "apparent energy meter constant" },
  48: { symbol: "V²h", name: "volt-squared hour" },
  49: { symbol: "A²h", name: "ampere-squared hour" },
  50: { symbol: "kg/s", name: "mass flux" },
  51: { symbol: "S", name: "conductance" },
  52: { symbol: "K", name: "temperature (kelvin)" },
  53: { symbol: "1/(V²h)", name: "volt-squared hour meter constant" },
  54: { symbol: "1/(A²h)", name: "ampere-squared hour meter constant" },
  55: { symbol: "1/m³", name: "volume meter constant" },
  56: { symbol: "%", name: "percentage" },
  57: { symbol: "Ah", name: "ampere-hour" },
  60: { symbol: "Wh/m³", name: "energy per volume" },
  61: { symbol: "J/m³", name: "calorific value" },
  62: { symbol: "mol %", name: "molar fraction" },
  63: { symbol: "g/m³", name: "mass density" },
  64: { symbol: "Pa s", name: "dynamic viscosity" },
  65: { symbol: "J/kg", name: "specific energy" },
  66: { symbol: "g/cm²", name: "pressure (gram per square centimetre)" },
  67: { symbol: "atm", name: "pressure (atmosphere)" },
  70: { symbol: "dBm", name: "signal strength (dB milliwatt)" },
  71: { symbol: "dBµV", name: "signal strength (dB microvolt)" },
  72: { symbol: "dB", name: "logarithmic unit (decibel)" },
  253: { symbol: "", name: "reserved" },
  254: { symbol: "", name: "other unit" },
  255: { symbol: "", name: "no unit, unitless, count" },
};

export function unitInfo(code: number): UnitInfo | undefined {
  return UNITS[code];
}

/** Printable symbol of a unit code; "" for unitless (255), other (254) and codes we do not know. */
export function unitSymbol(code: number): string {
  return UNITS[code]?.symbol ?? "";
}
