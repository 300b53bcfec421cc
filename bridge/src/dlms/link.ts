// The data-link seam: HDLC (62056-46) and the TCP wrapper (62056-47) both turn APDUs into bytes and back.
// Sans-IO, h11-style: feed received bytes with receiveData(), pull events with nextEvent(), take bytes to write
// with takeOutgoing(). No sockets, no timers: the async client/simulator own those.

import type { DlmsError } from "./errors.js";

export interface HdlcParameters {
  maxInfoTx: number; // max information field length we send
  maxInfoRx: number; // max information field length we receive
  windowTx: number;
  windowRx: number;
}

export type LinkEvent =
  /** Client: UA to our SNRM arrived (HDLC) / immediately (wrapper). Server: SNRM received and UA queued. */
  | { type: "connected"; params?: HdlcParameters }
  /** A complete APDU (HDLC: reassembled from segments, LLC header stripped; wrapper: payload). */
  | { type: "apdu"; apdu: Uint8Array }
  /** The link ended: peer sent DISC (we queued UA), UA to our DISC, or DM. */
  | { type: "disconnected"; reason: "disc" | "ua" | "dm" | "frmr" }
  /** One frame / wrapper PDU received, for traces and frame/byte counters. */
  | { type: "frame"; direction: "rx"; bytes: Uint8Array; summary: string }
  /**
   * A frame was discarded (bad HCS/FCS, bad format, not addressed to us, unexpected sequence number).
   * The link has already resynchronised; the error is surfaced so it can be counted and logged.
   */
  | { type: "discarded"; error: DlmsError };

export interface DataLink {
  readonly kind: "hdlc" | "wrapper";
  /** Client: queue SNRM (HDLC) or nothing (wrapper; emits "connected" at once). */
  connect(): void;
  /** Client: queue DISC (HDLC); wrapper: emits "disconnected" at once. */
  disconnect(): void;
  /** Queue an APDU for sending (HDLC: LLC header added, segmented to maxInfoTx, honouring the window). */
  sendApdu(apdu: Uint8Array): void;
  /** Bytes received from the peer, in any chunking (several frames per chunk or a frame over several chunks). */
  receiveData(bytes: Uint8Array): void;
  nextEvent(): LinkEvent | null;
  /** Frames to write, each element one complete frame (so a trace can print it). Empties the queue. */
  takeOutgoing(): Uint8Array[];
  readonly isConnected: boolean;
  /**
   * Client, optional: give the peer the turn again (HDLC: RR with P; SNRM/DISC resent while connecting/
   * disconnecting). Needed after a stale reply used up the meter's turn, since an HDLC server only speaks when polled.
   */
  poll?(): void;
}

/**
 * `queue.shift()` that lets go of the queue's backing store once the queue is empty. V8 keeps an emptied array's
 * slots (17, 152 bytes) in the old generation; a bridge holds a few queues per idle link for thousands of links
 * (≈ 0.6 kB per meter, BENCHMARKS.md "Sixth round"). Setting the length to 0 drops them; the next push allocates anew.
 */
export function shiftQueue<T>(queue: T[]): T | undefined {
  const item = queue.shift();
  if (queue.length === 0) queue.length = 0;
  return item;
}

/**
 * The "frame" event of a received frame or PDU. Its trace summary is built only when someone reads it (most frames
 * are never traced). It is a class, not an object literal with a getter: a literal with an accessor is slow to create.
 */
export class RxFrameEvent<F> {
  readonly type = "frame";
  readonly direction = "rx";
  private text: string | undefined;

  constructor(
    readonly bytes: Uint8Array,
    private readonly frame: F,
    private readonly describe: (frame: F) => string,
  ) {}

  get summary(): string {
    this.text ??= this.describe(this.frame);
    return this.text;
  }
}
