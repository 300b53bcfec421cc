// Printable JSON of COSEM data for logs, the CLI and attributes: what a person expects to read, not a lossless form
// (use encodeData for that).
import type { DlmsData } from "../axdr/types.js";
import { toHex } from "../codec/hex.js";
import { type CosemDateTime, dateTimeFromData, dateTimeToIso } from "./datetime.js";

function isPrintableAscii(b: Uint8Array): boolean {
  return b.length > 0 && b.every((c) => c >= 0x20 && c <= 0x7e);
}

/** Bigints fit in JSON as numbers only while they are exact. */
function bigintToJson(v: bigint): number | string {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

const pad = (n: number | undefined, width: number) =>
  n === undefined ? "*".repeat(width) : String(n).padStart(width, "0");

/** A date-time with unspecified fields as "*": "****-01-15T13:00:**"; full ones go through dateTimeToIso. */
function dateTimePattern(dt: CosemDateTime, type: "date-time" | "date" | "time"): string {
  if (type === "date-time") {
    const iso = dateTimeToIso(dt);
    if (iso !== undefined) return iso;
  }
  const date = `${pad(dt.year, 4)}-${pad(dt.month, 2)}-${pad(dt.day, 2)}`;
  const time = `${pad(dt.hour, 2)}:${pad(dt.minute, 2)}:${pad(dt.second, 2)}`;
  return type === "date" ? date : type === "time" ? time : `${date}T${time}`;
}

export function dataToJson(d: DlmsData): unknown {
  switch (d.type) {
    case "null-data":
    case "dont-care":
      return null;
    case "array":
    case "structure":
    case "compact-array":
      return d.value.map(dataToJson);
    case "long64":
    case "long64-unsigned":
      return bigintToJson(d.value);
    case "float32":
    case "float64":
      return Number.isFinite(d.value) ? d.value : String(d.value);
    case "bit-string":
      return d.value.map((bit) => (bit ? "1" : "0")).join("");
    case "octet-string": {
      if (isPrintableAscii(d.value)) return Array.from(d.value, (c) => String.fromCharCode(c)).join("");
      const iso = d.value.length === 12 ? dateTimeToIso(dateTimeFromData(d)!) : undefined;
      return iso ?? toHex(d.value, "");
    }
    case "date-time":
    case "date":
    case "time":
      return dateTimePattern(dateTimeFromData(d)!, d.type);
    default:
      return d.value;
  }
}
