// One object's reading as JSON (scaler applied, unit named, raw value kept) and as the technician's text line.
// `read --json`, the bridge's POST /api/meters/<id>/read and `read --via-bridge` all speak this shape.
import { dataToJson } from "../dlms/cosem/display.js";
import { applyScaler, numericValue } from "../dlms/cosem/scaler.js";
import type { ObjectRef } from "./object-ref.js";
import type { AttributeReading } from "./reads.js";

export type ObjectReadingJson = ObjectRef &
  ({ value: unknown; type: string; unit?: string; scaler?: number; raw?: unknown } | { error: string; reason: string });

export function readingToJson(ref: ObjectRef, reading: AttributeReading): ObjectReadingJson {
  const { obis, classId, attributeId } = ref;
  if (!reading.ok) return { obis, classId, attributeId, error: reading.error, reason: reading.reason };
  const raw = numericValue(reading.data);
  const su = reading.scalerUnit;
  if (su && raw !== undefined) {
    return {
      obis,
      classId,
      attributeId,
      value: applyScaler(raw, su.scaler),
      type: reading.data.type,
      unit: su.unit,
      scaler: su.scaler,
      raw: dataToJson(reading.data),
    };
  }
  return { obis, classId, attributeId, value: dataToJson(reading.data), type: reading.data.type };
}

/** "OBIS  value unit" or "OBIS  error: …" (or the JSON itself); ok is false for a failed object. */
export function renderObjectReading(reading: ObjectReadingJson, json: boolean): { ok: boolean; text: string } {
  const ok = !("error" in reading);
  if (json) return { ok, text: JSON.stringify(reading) };
  const target = reading.attributeId === 2 ? reading.obis : `${reading.obis} attr ${reading.attributeId}`;
  if ("error" in reading) return { ok, text: `${target}  error: ${reading.error}` };
  const { value, unit } = reading;
  const shown = typeof value === "number" || typeof value === "string" ? String(value) : JSON.stringify(value);
  return { ok, text: `${target}  ${shown}${unit ? ` ${unit}` : ""}` };
}
