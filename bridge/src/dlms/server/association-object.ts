// The "current association" object, Association LN (class 15) at 0.0.40.0.0.255: its attributes describe the
// association being used to read them, so the server association answers them, not the meter model.

import { DataAccessResult } from "../apdu/data-access-result.js";
import { applicationContextOid, mechanismOid } from "../apdu/oids.js";
import type { GetDataResult, LogicalName } from "../apdu/types.js";
import type { DlmsData } from "../axdr/types.js";
import { encodeObjectList, type ObjectListEntry } from "../cosem/association-ln.js";
import { DLMS_VERSION, type NegotiatedContext } from "./negotiation.js";

export const ASSOCIATION_LN_CLASS = 15;
export const ASSOCIATION_LN_VERSION = 1;
export const CURRENT_ASSOCIATION = Uint8Array.of(0, 0, 40, 0, 0, 255);

const ACCESS_NONE = 0;
const ACCESS_READ_ONLY = 1;
const ASSOCIATION_STATUS_ASSOCIATED = 2;
const SECRET_ATTRIBUTE = 7;
/** quality_of_service in xDLMS_context_info: none negotiated. */
const QUALITY_OF_SERVICE = 0;
/**
 * security_setup_reference (attribute 9, class version 1): the Security setup object the association uses. The
 * Blue Book's default instance; a meter without security suite still names it (security_policy 0).
 */
export const SECURITY_SETUP = Uint8Array.of(0, 0, 43, 0, 0, 255);

/**
 * Attributes 1-9 of class version 1. The secret (7) is listed with no access and is never read back, as on real
 * meters: a client learns from object_list that it cannot read it.
 */
export const currentAssociationEntry: ObjectListEntry = {
  classId: ASSOCIATION_LN_CLASS,
  version: ASSOCIATION_LN_VERSION,
  obis: "0.0.40.0.0.255",
  attributes: [1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) => ({
    id,
    access: id === SECRET_ATTRIBUTE ? ACCESS_NONE : ACCESS_READ_ONLY,
  })),
  methods: [],
};

/** What the attributes of the current association report about it. */
export interface CurrentAssociationContext {
  objects: readonly ObjectListEntry[];
  serverSap: number;
  /** The negotiated association (client SAP, mechanism, conformance, client max receive PDU size). */
  negotiated: NegotiatedContext;
  serverMaxReceivePduSize: number;
}

export function isCurrentAssociation(classId: number, ln: LogicalName): boolean {
  return classId === ASSOCIATION_LN_CLASS && sameName(ln, CURRENT_ASSOCIATION);
}

export function readCurrentAssociation(attributeId: number, context: CurrentAssociationContext): GetDataResult {
  const { negotiated } = context;
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
            { type: "integer", value: negotiated.clientSap },
            { type: "long-unsigned", value: context.serverSap },
          ],
        },
      };
    case 4: // application_context_name: the OID's BER value as an octet-string (class versions >= 1)
      return { ok: true, data: { type: "octet-string", value: applicationContextOid("ln") } };
    case 5:
      return { ok: true, data: xdlmsContextInfo(context) };
    case 6: // authentication_mechanism_name, same form as attribute 4
      return { ok: true, data: { type: "octet-string", value: mechanismOid(negotiated.mechanism) } };
    case 8:
      return { ok: true, data: { type: "enum", value: ASSOCIATION_STATUS_ASSOCIATED } };
    case 9:
      return { ok: true, data: { type: "octet-string", value: SECURITY_SETUP } };
    default:
      return { ok: false, error: DataAccessResult["read-write-denied"] };
  }
}

/**
 * xDLMS_context_info: conformance (bit-string of 24), max_receive_pdu_size (ours), max_send_pdu_size (what we
 * send: the client's max receive size), dlms_version_number, quality_of_service, cyphering_info (empty: no
 * dedicated key).
 */
function xdlmsContextInfo(context: CurrentAssociationContext): DlmsData {
  const { conformance, clientMaxReceivePduSize } = context.negotiated;
  const bits = Array.from({ length: 24 }, (_, n) => (conformance & (1 << (23 - n))) !== 0);
  return {
    type: "structure",
    value: [
      { type: "bit-string", value: bits },
      { type: "long-unsigned", value: context.serverMaxReceivePduSize },
      { type: "long-unsigned", value: clientMaxReceivePduSize },
      { type: "unsigned", value: DLMS_VERSION },
      { type: "integer", value: QUALITY_OF_SERVICE },
      { type: "octet-string", value: new Uint8Array(0) },
    ],
  };
}

export function sameName(a: LogicalName, b: LogicalName): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
