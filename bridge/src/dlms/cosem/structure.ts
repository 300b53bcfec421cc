// Helpers for COSEM structures received from a meter: check the shape, or fail with a DecodeError naming the path.
import type { DlmsData } from "../axdr/types.js";
import { DecodeError } from "../errors.js";

const INTEGER_TYPES: ReadonlySet<DlmsData["type"]> = new Set([
  "integer",
  "long",
  "double-long",
  "unsigned",
  "long-unsigned",
  "double-long-unsigned",
  "enum",
]);

function describe(d: DlmsData): string {
  return d.type === "array" || d.type === "structure" ? `${d.type} of ${d.value.length}` : d.type;
}

export function malformed(path: string, expected: string, got: DlmsData): DecodeError {
  return new DecodeError("malformed", `${path}: expected ${expected}, got ${describe(got)}`);
}

/** The elements of an array (or compact-array). */
export function expectArray(d: DlmsData, path: string): DlmsData[] {
  if (d.type !== "array" && d.type !== "compact-array") throw malformed(path, "array", d);
  return d.value;
}

/** The fields of a structure with at least `min` fields (meters may append fields of newer class versions). */
export function expectStructure(d: DlmsData, path: string, min: number): DlmsData[] {
  if (d.type !== "structure" || d.value.length < min) throw malformed(path, `structure of ${min}`, d);
  return d.value;
}

/** An integer of any width (meters are loose about integer vs unsigned vs enum). */
export function expectInteger(d: DlmsData, path: string): number {
  if (!INTEGER_TYPES.has(d.type)) throw malformed(path, "an integer", d);
  return (d as { value: number }).value;
}

export function expectOctetString(d: DlmsData, path: string): Uint8Array {
  if (d.type !== "octet-string") throw malformed(path, "octet-string", d);
  return d.value;
}
