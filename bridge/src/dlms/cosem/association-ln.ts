// Association LN (class 15) object_list (attr 2): every object the association may see, with its access rights.
import type { DlmsData } from "../axdr/types.js";
import { obisFromData, parseObis } from "./obis.js";
import { expectArray, expectInteger, expectStructure, malformed } from "./structure.js";

/** attribute access_mode enum. */
export const AttributeAccess = {
  0: "no-access",
  1: "read-only",
  2: "write-only",
  3: "read-write",
  4: "authenticated-read-only",
  5: "authenticated-write-only",
  6: "authenticated-read-write",
} as const;

/** method access_mode enum (version 0 of the class sends a boolean: false = 0, true = 1). */
export const MethodAccess = { 0: "no-access", 1: "access", 2: "authenticated-access" } as const;

export interface AttributeAccessItem {
  id: number;
  access: number;
  /** Selective-access selectors the attribute supports; undefined when the meter sent null-data. */
  selectors?: number[];
}

export interface MethodAccessItem {
  id: number;
  access: number;
}

export interface ObjectListEntry {
  classId: number;
  version: number;
  obis: string;
  attributes: AttributeAccessItem[];
  methods: MethodAccessItem[];
}

function decodeAttributeAccess(d: DlmsData, path: string): AttributeAccessItem {
  const [id, access, selectors] = expectStructure(d, path, 3) as [DlmsData, DlmsData, DlmsData];
  const item: AttributeAccessItem = {
    id: expectInteger(id, `${path}.attribute_id`),
    access: expectInteger(access, `${path}.access_mode`),
  };
  if (selectors.type === "array") {
    item.selectors = selectors.value.map((s, i) => expectInteger(s, `${path}.access_selectors[${i}]`));
  } else if (selectors.type !== "null-data") {
    throw malformed(`${path}.access_selectors`, "null-data or array", selectors);
  }
  return item;
}

function decodeMethodAccess(d: DlmsData, path: string): MethodAccessItem {
  const [id, access] = expectStructure(d, path, 2) as [DlmsData, DlmsData];
  return {
    id: expectInteger(id, `${path}.method_id`),
    access: access.type === "boolean" ? Number(access.value) : expectInteger(access, `${path}.access_mode`),
  };
}

function decodeEntry(d: DlmsData, path: string): ObjectListEntry {
  const [classId, version, ln, rights] = expectStructure(d, path, 4) as [DlmsData, DlmsData, DlmsData, DlmsData];
  const [attributes, methods] = expectStructure(rights, `${path}.access_rights`, 2) as [DlmsData, DlmsData];
  return {
    classId: expectInteger(classId, `${path}.class_id`),
    version: expectInteger(version, `${path}.version`),
    obis: obisFromData(ln, `${path}.logical_name`),
    attributes: expectArray(attributes, `${path}.attribute_access`).map((a, i) =>
      decodeAttributeAccess(a, `${path}.attribute_access[${i}]`),
    ),
    methods: expectArray(methods, `${path}.method_access`).map((m, i) =>
      decodeMethodAccess(m, `${path}.method_access[${i}]`),
    ),
  };
}

/** object_list: array of {class_id, version, logical_name, access_rights}. Malformed input -> DecodeError. */
export function decodeObjectList(d: DlmsData): ObjectListEntry[] {
  return expectArray(d, "object_list").map((entry, i) => decodeEntry(entry, `object_list[${i}]`));
}

/** object_list as a server sends it (method access as enum, class version 1+). */
export function encodeObjectList(entries: readonly ObjectListEntry[]): DlmsData {
  return {
    type: "array",
    value: entries.map((e) => ({
      type: "structure",
      value: [
        { type: "long-unsigned", value: e.classId },
        { type: "unsigned", value: e.version },
        { type: "octet-string", value: parseObis(e.obis) },
        {
          type: "structure",
          value: [
            {
              type: "array",
              value: e.attributes.map((a) => ({
                type: "structure",
                value: [
                  { type: "integer", value: a.id },
                  { type: "enum", value: a.access },
                  a.selectors === undefined
                    ? { type: "null-data" }
                    : { type: "array", value: a.selectors.map((s) => ({ type: "integer", value: s })) },
                ],
              })),
            },
            {
              type: "array",
              value: e.methods.map((m) => ({
                type: "structure",
                value: [
                  { type: "integer", value: m.id },
                  { type: "enum", value: m.access },
                ],
              })),
            },
          ],
        },
      ],
    })),
  };
}

/** Whether the entry grants read access to an attribute (read-only, read-write or their authenticated forms). */
export function canRead(entry: ObjectListEntry, attributeId: number): boolean {
  const access = entry.attributes.find((a) => a.id === attributeId)?.access;
  return access === 1 || access === 3 || access === 4 || access === 6;
}
