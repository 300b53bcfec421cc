// Profile Generic (class 7): capture_objects (attr 3), buffer (attr 2), and the selective-access parameters used
// to read part of the buffer (62056-6-2: selector 1 range_descriptor, 2 entry_descriptor).
import type { DlmsData } from "../axdr/types.js";
import { LocalProtocolError } from "../errors.js";
import { obisFromData, parseObis } from "./obis.js";
import { expectArray, expectInteger, expectStructure, malformed } from "./structure.js";

/** capture_object_definition: which attribute (and element of it, dataIndex > 0) fills one buffer column. */
export interface CaptureObject {
  classId: number;
  obis: string;
  attributeId: number;
  dataIndex: number;
}

export interface ProfileCell {
  capture: CaptureObject;
  /** As sent; null-data can mean "same as / derivable from the previous entry" when the profile is compressed. */
  value: DlmsData;
}

export type ProfileRow = ProfileCell[];

export const ProfileSelector = { range: 1, entry: 2 } as const;

function decodeCaptureObject(d: DlmsData, path: string): CaptureObject {
  const [classId, ln, attributeId, dataIndex] = expectStructure(d, path, 4) as [DlmsData, DlmsData, DlmsData, DlmsData];
  if (ln.type !== "octet-string") throw malformed(`${path}.logical_name`, "octet-string", ln);
  return {
    classId: expectInteger(classId, `${path}.class_id`),
    obis: obisFromData(ln, `${path}.logical_name`),
    attributeId: expectInteger(attributeId, `${path}.attribute_index`),
    dataIndex: expectInteger(dataIndex, `${path}.data_index`),
  };
}

/** capture_objects: array of structure {class_id, logical_name, attribute_index, data_index}. */
export function decodeCaptureObjects(d: DlmsData): CaptureObject[] {
  return expectArray(d, "capture_objects").map((item, i) => decodeCaptureObject(item, `capture_objects[${i}]`));
}

export function encodeCaptureObject(c: CaptureObject): DlmsData {
  return {
    type: "structure",
    value: [
      { type: "long-unsigned", value: c.classId },
      { type: "octet-string", value: parseObis(c.obis) },
      { type: "integer", value: c.attributeId },
      { type: "long-unsigned", value: c.dataIndex },
    ],
  };
}

export function encodeCaptureObjects(list: readonly CaptureObject[]): DlmsData {
  return { type: "array", value: list.map(encodeCaptureObject) };
}

/**
 * buffer: array of entries, each a structure with one value per capture object. A meter answering a selective
 * read with selected_values sends fewer columns: pass the matching capture objects.
 */
export function decodeBuffer(d: DlmsData, captureObjects: readonly CaptureObject[]): ProfileRow[] {
  return expectArray(d, "buffer").map((entry, i) => {
    const path = `buffer[${i}]`;
    const values = expectStructure(entry, path, 0);
    if (values.length !== captureObjects.length) {
      throw malformed(path, `structure of ${captureObjects.length} (one per capture object)`, entry);
    }
    return values.map((value, column) => ({ capture: captureObjects[column]!, value }));
  });
}

/** Builds a buffer value (for the simulator): one structure per row. */
export function encodeBuffer(rows: readonly (readonly DlmsData[])[]): DlmsData {
  return { type: "array", value: rows.map((row) => ({ type: "structure", value: [...row] })) };
}

/** range_descriptor (selector 1): entries whose restricting object lies in [from, to], e.g. the clock column. */
export function encodeRangeDescriptor(
  restrictingObject: CaptureObject,
  from: DlmsData,
  to: DlmsData,
  selectedValues: readonly CaptureObject[] = [],
): DlmsData {
  return {
    type: "structure",
    value: [encodeCaptureObject(restrictingObject), from, to, encodeCaptureObjects(selectedValues)],
  };
}

/** entry_descriptor (selector 2): entries fromEntry..toEntry (1-based; 0 = to the last), columns likewise. */
export function encodeEntryDescriptor(fromEntry: number, toEntry = 0, fromColumn = 1, toColumn = 0): DlmsData {
  for (const [name, v, max] of [
    ["fromEntry", fromEntry, 0xffff_ffff],
    ["toEntry", toEntry, 0xffff_ffff],
    ["fromColumn", fromColumn, 0xffff],
    ["toColumn", toColumn, 0xffff],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max)
      throw new LocalProtocolError(`entry_descriptor ${name} ${v} is out of range`);
  }
  return {
    type: "structure",
    value: [
      { type: "double-long-unsigned", value: fromEntry },
      { type: "double-long-unsigned", value: toEntry },
      { type: "long-unsigned", value: fromColumn },
      { type: "long-unsigned", value: toColumn },
    ],
  };
}
