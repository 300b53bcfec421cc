// For a server that hosts several meters on one port: which server address does a new connection target?
// Look at the first complete, valid frame (normally the SNRM) before creating the HdlcLink for that meter.

import { ByteReader } from "../codec/reader.js";
import { decodeAddress } from "./address.js";
import { HdlcDeframer } from "./deframer.js";
import type { HdlcFrame } from "./frame.js";

export interface FrameDestination {
  /** Upper HDLC address of the destination (server logical device). */
  logical: number;
  /** Lower HDLC address (physical device), if the 2- or 4-byte form was used. */
  physical?: number;
  /** Destination address size on the wire: 1, 2 or 4. */
  size: number;
  /** The sender's client SAP (upper address of the source). */
  client: number;
  frame: HdlcFrame;
}

/**
 * Destination of the first valid frame in `bytes` (the bytes received so far on a connection), or null if no
 * complete valid frame is there yet. Corrupt frames before it are skipped. Feed the same bytes to the link after.
 */
export function peekDestination(bytes: Uint8Array): FrameDestination | null {
  const deframer = new HdlcDeframer();
  deframer.push(bytes);
  for (let r = deframer.next(); r; r = deframer.next()) {
    if ("error" in r) continue;
    const dest = decodeAddress(new ByteReader(r.frame.dest));
    const src = decodeAddress(new ByteReader(r.frame.src));
    const found: FrameDestination = { logical: dest.upper, size: dest.size, client: src.upper, frame: r.frame };
    if (dest.lower !== undefined) found.physical = dest.lower;
    return found;
  }
  return null;
}
