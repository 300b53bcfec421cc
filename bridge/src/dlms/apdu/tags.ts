// APDU tags we recognise but do not implement yet (62056-5-3 xDLMS-APDU CHOICE). Decoding one of them is a clear
// "unsupported" error naming the PDU, not "malformed": the peer is fine, we lack the feature (ciphering, SET...).
import { DecodeError } from "../errors.js";
import { hex2 } from "./ber.js";

export const UNIMPLEMENTED_TAGS: ReadonlyMap<number, string> = new Map([
  [0x05, "readRequest"],
  [0x06, "writeRequest"],
  [0x0c, "readResponse"],
  [0x0d, "writeResponse"],
  [0x0f, "data-notification"],
  [0x16, "unconfirmedWriteRequest"],
  [0x18, "informationReportRequest"],
  [0x21, "glo-initiateRequest"],
  [0x25, "glo-readRequest"],
  [0x26, "glo-writeRequest"],
  [0x28, "glo-initiateResponse"],
  [0x2c, "glo-readResponse"],
  [0x2d, "glo-writeResponse"],
  [0x2e, "glo-confirmedServiceError"],
  [0x41, "ded-initiateRequest"],
  [0x48, "ded-initiateResponse"],
  [0x4e, "ded-confirmedServiceError"],
  [0xc1, "set-request"],
  [0xc2, "event-notification-request"],
  [0xc5, "set-response"],
  [0xc8, "glo-get-request"],
  [0xc9, "glo-set-request"],
  [0xca, "glo-event-notification-request"],
  [0xcb, "glo-action-request"],
  [0xcc, "glo-get-response"],
  [0xcd, "glo-set-response"],
  [0xcf, "glo-action-response"],
  [0xd0, "ded-get-request"],
  [0xd1, "ded-set-request"],
  [0xd2, "ded-event-notification-request"],
  [0xd3, "ded-action-request"],
  [0xd4, "ded-get-response"],
  [0xd5, "ded-set-response"],
  [0xd7, "ded-action-response"],
  [0xd9, "access-request"],
  [0xda, "access-response"],
  [0xdb, "general-glo-ciphering"],
  [0xdc, "general-ded-ciphering"],
  [0xdd, "general-ciphering"],
  [0xdf, "general-signing"],
  [0xe0, "general-block-transfer"],
]);

/** The error for a tag with no codec: "unsupported" when it is a known PDU, "malformed" when it is no PDU at all. */
export function noCodecError(tag: number, offset: number, where: string): DecodeError {
  const name = UNIMPLEMENTED_TAGS.get(tag);
  return name
    ? new DecodeError("unsupported", `${where}: ${name} (tag 0x${hex2(tag)}) is not supported`, offset)
    : new DecodeError("malformed", `${where}: unknown APDU tag 0x${hex2(tag)}`, offset);
}
