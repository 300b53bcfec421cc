// The "current association" object, Association LN (class 15) at 0.0.40.0.0.255: its attributes describe the
// association being used to read them, so the server association answers them, not the meter model.

import { DataAccessResult } from "../apdu/data-access-result.js";
import type { GetDataResult, LogicalName } from "../apdu/types.js";
import { encodeObjectList, type ObjectListEntry } from "../cosem/association-ln.js";

export const ASSOCIATION_LN_CLASS = 15;
export const ASSOCIATION_LN_VERSION = 1;
export const CURRENT_ASSOCIATION = Uint8Array.of(0, 0, 40, 0, 0, 255);

const ACCESS_READ_ONLY = 1;
const ASSOCIATION_STATUS_ASSOCIATED = 2;

/** Attributes we serve: logical_name, object_list, associated_partners_id, association_status. */
export const currentAssociationEntry: ObjectListEntry = {
  classId: ASSOCIATION_LN_CLASS,
  version: ASSOCIATION_LN_VERSION,
  obis: "0.0.40.0.0.255",
  attributes: [1, 2, 3, 8].map((id) => ({ id, access: ACCESS_READ_ONLY })),
  methods: [],
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
      return { ok: true, data: encodeObjectList(context.objects) };
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

export function sameName(a: LogicalName, b: LogicalName): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
