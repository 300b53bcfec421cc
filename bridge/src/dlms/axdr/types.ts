// COSEM data as decoded from / encoded to A-XDR (IEC 62056-6-2 "Data" CHOICE). One value type for client and server.

/** A-XDR tags of the Data CHOICE. */
export const DataTag = {
  "null-data": 0,
  array: 1,
  structure: 2,
  boolean: 3,
  "bit-string": 4,
  "double-long": 5, // int32
  "double-long-unsigned": 6, // uint32
  "octet-string": 9,
  "visible-string": 10,
  "utf8-string": 12,
  bcd: 13,
  integer: 15, // int8
  long: 16, // int16
  unsigned: 17, // uint8
  "long-unsigned": 18, // uint16
  "compact-array": 19,
  long64: 20,
  "long64-unsigned": 21,
  enum: 22,
  float32: 23,
  float64: 24,
  "date-time": 25, // 12 bytes
  date: 26, // 5 bytes
  time: 27, // 4 bytes
  "dont-care": 255,
} as const;

export type DataTypeName = keyof typeof DataTag;

export type DlmsData =
  | { type: "null-data" }
  | { type: "dont-care" }
  | { type: "array"; value: DlmsData[] }
  | { type: "structure"; value: DlmsData[] }
  | { type: "boolean"; value: boolean }
  /** bits[0] is the first (most significant) bit on the wire. */
  | { type: "bit-string"; value: boolean[] }
  | { type: "double-long" | "double-long-unsigned" | "integer" | "long" | "unsigned" | "long-unsigned"; value: number }
  | { type: "enum"; value: number }
  /** The raw byte (0..255) holding two BCD digits; cosem/scaler.ts numericValue reads them as a number. */
  | { type: "bcd"; value: number }
  | { type: "long64" | "long64-unsigned"; value: bigint }
  | { type: "float32" | "float64"; value: number }
  | { type: "octet-string"; value: Uint8Array }
  | { type: "visible-string" | "utf8-string"; value: string }
  /** Raw 12/5/4 bytes; cosem/datetime.ts interprets them. */
  | { type: "date-time" | "date" | "time"; value: Uint8Array }
  /** Decoded compact array: `description` is the type description, `value` the expanded elements. */
  | { type: "compact-array"; description: TypeDescription; value: DlmsData[] };

/** Type description used by compact-array (62056-6-2 TypeDescription). */
export type TypeDescription =
  | { type: Exclude<DataTypeName, "array" | "structure" | "compact-array"> }
  | { type: "array"; count: number; element: TypeDescription }
  | { type: "structure"; elements: TypeDescription[] };
