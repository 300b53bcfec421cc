// Which meter does a new connection want? The first complete frame says: the HDLC server address (a physical
// address picks one of many meters on a shared port) or the wrapper destination wPort.
import { uControl } from "../dlms/hdlc/control.js";
import { encodeFrame } from "../dlms/hdlc/frame.js";
import { peekDestination } from "../dlms/hdlc/link.js";
import { WrapperDeframer } from "../dlms/wrapper/header.js";

/**
 * The address a connection's first frame carries: HDLC server address or wrapper destination wPort. HDLC also
 * keeps the DM a busy meter answers with, and whether the frame is a DISC (which frees a stale link).
 */
export type FirstFrameTarget =
  | { transport: "hdlc"; logical: number; physical?: number; clientSap: number; dmFrame: Uint8Array; disc: boolean }
  | { transport: "wrapper"; wPort: number; clientSap: number };

/** The target of the first valid HDLC frame in `bytes`, or undefined until one has arrived. */
export function hdlcTarget(bytes: Uint8Array): FirstFrameTarget | undefined {
  const found = peekDestination(bytes);
  if (!found) return undefined;
  const { frame } = found;
  const dmFrame = encodeFrame({ dest: frame.src, src: frame.dest, control: uControl("DM", true) });
  const target: FirstFrameTarget = {
    transport: "hdlc",
    logical: found.logical,
    clientSap: found.client,
    dmFrame,
    disc: frame.type === "DISC",
  };
  if (found.physical !== undefined) target.physical = found.physical;
  return target;
}

/** The target of the first valid wrapper PDU in `bytes`, or undefined until one has arrived. */
export function wrapperTarget(bytes: Uint8Array): FirstFrameTarget | undefined {
  const deframer = new WrapperDeframer();
  deframer.push(bytes);
  for (let r = deframer.next(); r; r = deframer.next()) {
    if ("frame" in r) return { transport: "wrapper", wPort: r.frame.dstWPort, clientSap: r.frame.srcWPort };
  }
  return undefined;
}

/** The client (source) wPort of a complete wrapper PDU: bytes 2-3 of its header (62056-47). */
export function wrapperSourceWPort(pdu: Uint8Array): number {
  return (pdu[2]! << 8) | pdu[3]!;
}

export function describeTarget(t: FirstFrameTarget): string {
  return t.transport === "hdlc"
    ? `hdlc client ${t.clientSap} -> server ${t.logical}${t.physical === undefined ? "" : `/${t.physical}`}`
    : `wrapper wPort ${t.clientSap} -> ${t.wPort}`;
}
