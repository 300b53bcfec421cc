// Human names for OBIS codes (IEC 62056-61 / 62056-6-1), for object lists, the CLI and logs. Abstract objects come
// from a table of the common ones; electricity codes (A=1) are named from their value groups C, D, E and F.
import { parseObis } from "./obis.js";

/** Abstract objects (A=0) with B=0, F=255, by "C.D.E". */
const ABSTRACT: Readonly<Record<string, string>> = {
  "1.0.0": "clock",
  "10.0.0": "global meter reset script table",
  "10.0.1": "MDI reset / end of billing period script table",
  "10.0.100": "tariffication script table",
  "11.0.0": "special days table",
  "13.0.0": "activity calendar",
  "15.0.0": "end of billing period single action schedule",
  "22.0.0": "IEC HDLC setup",
  "25.0.0": "TCP-UDP setup",
  "25.1.0": "IPv4 setup",
  "25.4.0": "GPRS modem setup",
  "40.0.0": "current association",
  "41.0.0": "SAP assignment",
  "42.0.0": "COSEM logical device name",
  "43.0.0": "security setup",
  "43.1.0": "invocation counter",
  "44.0.0": "image transfer",
  "96.1.0": "device ID 1 (serial number)",
  "96.1.1": "device ID 2",
  "96.1.2": "device ID 3",
  "96.3.10": "disconnect control",
  "96.14.0": "currently active tariff",
};

const QUANTITY: Readonly<Record<number, string>> = {
  1: "active import (+A)",
  2: "active export (-A)",
  3: "reactive import (+R)",
  4: "reactive export (-R)",
  5: "reactive QI",
  6: "reactive QII",
  7: "reactive QIII",
  8: "reactive QIV",
  9: "apparent import",
  10: "apparent export",
  11: "current",
  12: "voltage",
  13: "power factor",
  14: "frequency",
  15: "active absolute (|+A|+|-A|)",
  16: "active net (+A-(-A))",
};

const PROCESSING: Readonly<Record<number, string>> = {
  0: "billing period average",
  1: "cumulative minimum 1",
  2: "cumulative maximum 1",
  3: "minimum 1",
  4: "current average 1",
  5: "last average 1",
  6: "maximum 1",
  7: "instantaneous value",
  8: "time integral 1",
  9: "time integral 2",
  10: "time integral 3",
  29: "time integral 5",
};

// C = 1..16 all phases (Σ), 21..36 L1, 41..56 L2, 61..76 L3.
function electricityQuantity(c: number): string | undefined {
  if (c === 91) return "neutral current";
  const phase = Math.floor(c / 20);
  const base = c % 20;
  const name = QUANTITY[base];
  if (name === undefined || phase > 3) return undefined;
  if (phase > 0) return `L${phase} ${name}`;
  return base === 11 || base === 12 || base === 14 ? name : `Σ ${name}`;
}

function electricityName(c: number, d: number, e: number, f: number): string | undefined {
  if (c === 99 && d >= 1 && d <= 2) return `load profile ${d}`;
  if (c === 98 && d === 1) return `billing profile ${e}`;
  const quantity = electricityQuantity(c);
  if (quantity === undefined) return undefined;
  const parts = [quantity, PROCESSING[d] ?? `processing ${d}`];
  if (e > 0) parts.push(`tariff ${e}`);
  if (f !== 255) parts.push(`billing period ${f}`);
  return parts.join(", ");
}

/** "L1 voltage, instantaneous value" for 1.0.32.7.0.255, "clock" for 0.0.1.0.0.255; undefined when unknown. */
export function describeObis(obis: string | Uint8Array): string | undefined {
  const [a, b, c, d, e, f] = typeof obis === "string" ? parseObis(obis) : obis;
  if (a === undefined || b === undefined || c === undefined || d === undefined || e === undefined || f === undefined) {
    return undefined;
  }
  if (a === 0 && f === 255) {
    if (c === 40 && d === 0 && e > 0) return `association ${e}`;
    if (c === 99 && d === 98) return `event log ${e}`;
    return b === 0 ? ABSTRACT[`${c}.${d}.${e}`] : undefined;
  }
  if (a === 1) {
    const name = electricityName(c, d, e, f);
    return name === undefined || b === 0 ? name : `${name} (channel ${b})`;
  }
  return undefined;
}
