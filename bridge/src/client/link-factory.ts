// Builds the client-role data link for the configured transport flavour.
import { HdlcLink } from "../dlms/hdlc/link.js";
import type { DataLink } from "../dlms/link.js";
import { WrapperLink } from "../dlms/wrapper/link.js";
import type { LinkSettings } from "./types.js";

export const DEFAULT_HDLC_MAX_INFO = 128;
export const DEFAULT_HDLC_WINDOW = 1;

/** Bytes of the LLC header in front of every APDU in an HDLC information field. */
const LLC_HEADER = 3;

/** `maxReplyBytes` bounds what the link keeps of one reply (HDLC reassembly; a wrapper PDU's length). */
export function createClientLink(settings: LinkSettings, maxReplyBytes: number): DataLink {
  if (settings.kind === "wrapper") {
    return new WrapperLink({
      role: "client",
      clientWPort: settings.clientAddress,
      serverWPort: settings.serverAddress.logical,
      maxPduLength: maxReplyBytes,
    });
  }
  const maxInfo = settings.maxInfo ?? DEFAULT_HDLC_MAX_INFO;
  const window = settings.window ?? DEFAULT_HDLC_WINDOW;
  return new HdlcLink({
    role: "client",
    clientAddress: settings.clientAddress,
    serverAddress: settings.serverAddress,
    proposed: { maxInfoTx: maxInfo, maxInfoRx: maxInfo, windowTx: window, windowRx: window },
    maxReassembly: maxReplyBytes + LLC_HEADER,
  });
}
