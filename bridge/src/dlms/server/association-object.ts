// The "current association" object, Association LN (class 15) at 0.0.40.0.0.255: its attributes describe the
// association being used to read them, so the server association answers them, not the meter model.

import { DataAccessResult } from "../apdu/data-access-result.js";
import type { GetDataResult, LogicalName } from "../apdu/types.js";
import type { DlmsData } from "../axdr/types.js";
import type { ObjectListEntry } from "./object-model.js";

export const ASSOCIATION_LN_CLASS = 15;
export const ASSOCIATION_LN_VERSION = 1;
export const CURRENT_ASSOCIATION = Uint8Array.of(0, 0, 40, 0, 0, 255);

/** Attributes we serve: logical_name, object_list, associated_partners_id, association_status. */
const READABLE = [1, 2, 3, 8] as const;
const ACCESS_READ_ONLY = 1;
const ASSOCIATION_STATUS_ASSOCIATED = 2;

export const currentAssociationEntry: ObjectListEntry = {
  classId: ASSOCIATION_LN_CLASS,
  version: ASSOCIATION_LN_VERSION,
  logicalName: CURRENT_ASSOCIATION,
  readableAttributes: READABLE,
};

export function isCurrentAssociation(classId: number, ln: LogicalName): boolean {
  return classId === ASSOCIATION_LN_CLASS && sameName(ln, CURRENT_ASSOCIATION);
}

export function readCurrentAssociation(
  attributeId: number,
  context: { objects: readonly ObjectListEntry[]; clientSap: number; serverSap: number },
): GetDataResult {
  switch (attributeId) {
    case 1:
      return { ok: true, data: { type: "octet-string", value: CURRENT_ASSOCIATION } };
    case 2:
      return { ok: true, data: objectListData(context.objects) };
    case 3:
      return {
        ok: true,
        data: {
          type: "structure",
          value: [
            { type: "integer", value: context.clientSap },
            { type: "long-unsigned", value: context.serverSap },
          ],
        },
      };
    case 8:
      return { ok: true, data: { type: "enum", value: ASSOCIATION_STATUS_ASSOCIATED } };
    default:
      return { ok: false, error: DataAccessResult["read-write-denied"] };
  }
}

/** object_list: array of {class_id, version, logical_name, access_rights{attribute_access, method_access}}. */
export function objectListData(objects: readonly ObjectListEntry[]): DlmsData {
  return {
    type: "array",
    value: objects.map((o) => ({
      type: "structure",
      value: [
        { type: "long-unsigned", value: o.classId },
        { type: "unsigned", value: o.version },
        { type: "octet-string", value: o.logicalName },
        {
          type: "structure",
          value: [
            { type: "array", value: o.readableAttributes.map(attributeAccess) },
            { type: "array", value: [] },
          ],
        },
      ],
    })),
  };
}

function attributeAccess(attributeId: number): DlmsData {
  return {
    type: "structure",
    value: [{ type: "integer", value: attributeId }, { type: "enum", value: ACCESS_READ_ONLY }, { type: "null-data" }],
  };
}

export function sameName(a: LogicalName, b: LogicalName): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
