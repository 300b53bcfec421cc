// HDLC data link (IEC 62056-46) in normal response mode, for both roles, sans-IO.
// Client (primary): SNRM/UA to connect, I-frames with P set on the last frame of each window, RR to poll for
// the next segment of a reply, DISC/UA to end. Server (secondary): answers SNRM with UA carrying the negotiated
// parameters, acknowledges segments with RR, answers with F set, and stays silent for frames addressed to others.
// The server role never sends on its own: after an "apdu" event the application must answer with sendApdu().

import { joinBytes } from "../codec/bytes.js";
import { ByteReader } from "../codec/reader.js";
import { DecodeError, type DlmsError, LocalProtocolError, SizeLimitError } from "../errors.js";
import { type DataLink, type HdlcParameters, type LinkEvent, RxFrameEvent, shiftQueue } from "../link.js";
import {
  type AddressSize,
  decodeAddress,
  encodeClientAddress,
  encodeServerAddress,
  formatAddress as hex,
  sharedAddressBytes,
} from "./address.js";
import { iControl, rrControl, uControl } from "./control.js";
import { HdlcDeframer } from "./deframer.js";
import { describeFrame, encodeFrame, type HdlcFrame } from "./frame.js";
import { decodeParameters, encodeParameters, isDefault, negotiate, resolveParameters } from "./params.js";

export { peekDestination } from "./peek.js";

export interface HdlcLinkOptions {
  role: "client" | "server";
  /** Client SAP (1 byte on the wire, e.g. 16 -> 0x21). Server role: the client expected first; SNRM re-learns it. */
  clientAddress: number;
  /** Size default: 1 without a physical address, else 4. */
  serverAddress: { logical: number; physical?: number; size?: AddressSize };
  /** Client: values sent in SNRM (omitted from SNRM when all default). Server: its own limits for the UA. */
  proposed?: Partial<HdlcParameters>;
  /** Largest reassembled information field accepted (bounds memory). Default 65535 + LLC header. */
  maxReassembly?: number;
}

type State = "disconnected" | "connecting" | "connected" | "disconnecting";

/** LLC header (IEC 62056-46 §8.4): destination LSAP E6, source LSAP E6 (command) / E7 (response), quality 00. */
const LLC_REQUEST = Uint8Array.of(0xe6, 0xe6, 0x00);
const LLC_RESPONSE = Uint8Array.of(0xe6, 0xe7, 0x00);

interface PendingFrame {
  info: Uint8Array;
  /** Written in front of `info` (the LLC header of an unsegmented APDU, so the APDU is not copied to add it). */
  prefix?: Uint8Array;
  segmented: boolean;
}

export class HdlcLink implements DataLink {
  readonly kind = "hdlc" as const;
  private state: State = "disconnected";
  private readonly role: "client" | "server";
  private readonly serverAddress: HdlcLinkOptions["serverAddress"];
  private readonly own: Readonly<HdlcParameters>;
  private negotiated: Readonly<HdlcParameters>;
  private readonly deframer = new HdlcDeframer();
  private readonly events: LinkEvent[] = [];
  private outgoing: Uint8Array[] = [];
  /** Our address and the peer's, as wire bytes (the server mirrors the form the client used). */
  private ownAddress: Uint8Array;
  private peerAddress: Uint8Array;
  private vs = 0; // N(S) of our next I-frame
  private vr = 0; // N(S) we expect next from the peer
  private readonly sendQueue: PendingFrame[] = [];
  private inFlight: PendingFrame[] = []; // sent, not yet acknowledged (kept for retransmission)
  private peerBusy = false;
  private reassembly: Uint8Array[] = [];
  private reassembled = 0;
  private reassemblyOverflow = false;
  private segments = 0;
  private readonly maxReassembly: number;

  // The options object is not kept, and addresses and parameters are shared values (dlms/intern.ts): a bridge holds
  // one idle link per meter, and these were ≈ 0.6 kB of each (BENCHMARKS.md, issue 9, seventh round).
  constructor(opts: HdlcLinkOptions) {
    this.role = opts.role;
    const server = opts.serverAddress;
    this.serverAddress = server;
    const serverBytes = sharedAddressBytes(encodeServerAddress(server.logical, server.physical, server.size));
    const clientBytes = sharedAddressBytes(encodeClientAddress(opts.clientAddress));
    this.ownAddress = opts.role === "client" ? clientBytes : serverBytes;
    this.peerAddress = opts.role === "client" ? serverBytes : clientBytes;
    this.own = resolveParameters(opts.proposed);
    this.negotiated = this.own; // both frozen: replaced on negotiation, never written to
    this.maxReassembly = opts.maxReassembly ?? 0xffff + LLC_REQUEST.length;
  }

  /** The negotiated parameters once connected (before that: our own proposal/limits). */
  get params(): Readonly<HdlcParameters> {
    return this.negotiated; // frozen and shared
  }

  get isConnected(): boolean {
    return this.state === "connected";
  }

  connect(): void {
    this.requireRole("client", "connect()");
    this.resetSequence();
    this.state = "connecting";
    this.sendSnrm();
  }

  /** Client: queue DISC (also valid when not connected, to free a meter left busy). Server: local reset only. */
  disconnect(): void {
    if (this.role === "server") {
      const was = this.state;
      this.enterDisconnected();
      if (was === "connected") this.events.push({ type: "disconnected", reason: "disc" });
      return;
    }
    this.state = "disconnecting";
    this.send(uControl("DISC", true));
  }

  /**
   * Client, when a reply is overdue (the owner runs the timer): ask the peer to answer again. Connected: RR with
   * P set, so the server answers with its N(R) (lost I-frames of ours are then resent) or resends its own
   * unacknowledged frames. Connecting / disconnecting: SNRM / DISC again.
   */
  poll(): void {
    this.requireRole("client", "poll()");
    if (this.state === "connecting") this.sendSnrm();
    else if (this.state === "disconnecting") this.send(uControl("DISC", true));
    else if (this.state === "connected") this.send(rrControl(this.vr, true));
  }

  sendApdu(apdu: Uint8Array): void {
    if (this.state !== "connected") throw new LocalProtocolError(`HDLC sendApdu() while ${this.state}`);
    const llc = this.role === "client" ? LLC_REQUEST : LLC_RESPONSE;
    const size = this.negotiated.maxInfoTx;
    if (llc.length + apdu.length <= size) {
      // The usual case: LLC and APDU go straight into the frame, no concatenation (and no view: a view moves a
      // small array off the heap).
      this.sendQueue.push({ info: apdu, prefix: llc, segmented: false });
      this.pump();
      return;
    }
    const info = new Uint8Array(llc.length + apdu.length);
    info.set(llc);
    info.set(apdu, llc.length);
    for (let at = 0; at < info.length; at += size) {
      const end = Math.min(at + size, info.length);
      this.sendQueue.push({ info: info.subarray(at, end), segmented: end < info.length });
    }
    this.pump();
  }

  receiveData(bytes: Uint8Array): void {
    this.deframer.push(bytes);
    for (let r = this.deframer.next(); r; r = this.deframer.next()) {
      if ("error" in r) {
        this.discard(r.error);
        continue;
      }
      this.events.push(frameEvent(r.bytes, r.frame));
      try {
        this.onFrame(r.frame);
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        this.discard(e);
      }
    }
  }

  nextEvent(): LinkEvent | null {
    return shiftQueue(this.events) ?? null;
  }

  takeOutgoing(): Uint8Array[] {
    const out = this.outgoing;
    this.outgoing = [];
    return out;
  }

  // --- receive path -------------------------------------------------------------------------------------------

  private onFrame(f: HdlcFrame): void {
    if (this.role === "client") {
      this.checkClientSideAddresses(f);
      this.onFrameAsClient(f);
    } else {
      this.checkServerSideAddresses(f);
      this.onFrameAsServer(f);
    }
  }

  private onFrameAsClient(f: HdlcFrame): void {
    switch (f.type) {
      case "UA":
        if (this.state === "connecting") {
          this.negotiated = negotiate(this.own, decodeParameters(f.info));
          this.resetSequence();
          this.state = "connected";
          this.events.push({ type: "connected", params: this.params });
        } else if (this.state === "disconnecting") {
          this.endLink("ua");
        } else {
          throw unexpected(`UA while ${this.state}`);
        }
        return;
      case "DM":
        if (this.state === "disconnected") throw unexpected("DM while disconnected");
        this.endLink("dm");
        return;
      case "FRMR":
        this.endLink("frmr");
        return;
      case "I":
      case "RR":
      case "RNR":
        if (this.state !== "connected") throw unexpected(`${f.type} while ${this.state}`);
        this.onSequencedFrame(f);
        return;
      case "UI":
        this.deliver(f.info);
        return;
      default:
        throw unexpected(`${f.type} sent to a client`);
    }
  }

  private onFrameAsServer(f: HdlcFrame): void {
    switch (f.type) {
      case "SNRM": {
        const proposed = decodeParameters(f.info);
        this.peerAddress = f.src;
        this.ownAddress = f.dest;
        this.negotiated = negotiate(this.own, proposed);
        this.resetSequence();
        this.state = "connected";
        this.send(uControl("UA", f.pf), encodeParameters(this.negotiated));
        this.events.push({ type: "connected", params: this.params });
        return;
      }
      case "DISC":
        if (this.state !== "connected") {
          this.send(uControl("DM", f.pf));
          return;
        }
        this.send(uControl("UA", f.pf));
        this.endLink("disc");
        return;
      case "I":
      case "RR":
      case "RNR":
        if (this.state !== "connected") {
          // Disconnected mode: tell the primary so it re-establishes the link instead of waiting.
          if (f.pf) this.send(uControl("DM", true));
          throw unexpected(`${f.type} while disconnected`);
        }
        this.onSequencedFrame(f);
        return;
      case "UI":
        this.deliver(f.info);
        return;
      default:
        throw unexpected(`${f.type} sent to a server`);
    }
  }

  /** I, RR and RNR frames of an established link. */
  private onSequencedFrame(f: HdlcFrame): void {
    if (f.type !== "I") {
      this.acknowledge(f.nr!, true);
      this.peerBusy = f.type === "RNR";
      const queued = this.outgoing.length;
      this.pump();
      // A secondary must answer a poll: with nothing to send, RR tells the primary what we expect next.
      if (this.role === "server" && f.pf && this.outgoing.length === queued) this.send(rrControl(this.vr, true));
      return;
    }
    if (f.ns !== this.vr) {
      // Lost or repeated frame: ask again for the one we expect.
      if (f.pf) this.send(rrControl(this.vr, true));
      throw unexpected(`I-frame N(S)=${f.ns}, expected ${this.vr}`);
    }
    this.acknowledge(f.nr!, false);
    this.vr = (this.vr + 1) & 7;
    this.collect(f.info);
    if (f.format.segmented) {
      if (f.pf) this.send(rrControl(this.vr, true)); // ready for the next segment
      return;
    }
    const info = this.takeReassembly();
    if (info) this.deliver(info);
    this.pump();
  }

  /** N(R) acknowledges our I-frames up to N(R)-1. From an RR, unacknowledged ones are sent again. */
  private acknowledge(nr: number, fromSupervisory: boolean): void {
    const oldest = (this.vs - this.inFlight.length) & 7;
    const acked = (nr - oldest) & 7;
    if (acked > this.inFlight.length) {
      throw unexpected(
        `N(R)=${nr} acknowledges frames never sent (next N(S) ${this.vs}, ${this.inFlight.length} in flight)`,
      );
    }
    for (let i = 0; i < acked; i++) shiftQueue(this.inFlight); // in place: no new array per acknowledgement
    if (fromSupervisory && this.inFlight.length > 0) {
      this.vs = (this.vs - this.inFlight.length) & 7;
      this.sendQueue.unshift(...this.inFlight);
      this.inFlight = [];
    }
  }

  /**
   * Keeps a segment of the message being received. Past maxReassembly the message is reported at once (a meter
   * that segments forever would otherwise only be stopped by a timer) and the rest of it is acknowledged but not
   * kept, so memory stays bounded whatever the peer sends.
   */
  private collect(info: Uint8Array): void {
    this.reassembled += info.length;
    this.segments++;
    if (this.reassemblyOverflow) return;
    if (this.reassembled > this.maxReassembly) {
      this.reassemblyOverflow = true;
      this.reassembly = [];
      this.discard(
        new SizeLimitError(
          this.maxReassembly,
          this.reassembled,
          `HDLC message larger than ${this.maxReassembly} bytes: ${this.reassembled} bytes in ${this.segments} segment(s) so far`,
        ),
      );
      return;
    }
    this.reassembly.push(info);
  }

  /** The reassembled information field, or undefined when it overflowed (already reported by collect()). */
  private takeReassembly(): Uint8Array | undefined {
    const overflow = this.reassemblyOverflow;
    // One segment (the usual case) is already our own copy (decodeFrame's): handed on as it is.
    const parts = this.reassembly;
    const out = overflow ? undefined : parts.length === 1 ? parts[0] : joinBytes(parts);
    this.reassembly = [];
    this.reassembled = 0;
    this.segments = 0;
    this.reassemblyOverflow = false;
    return out;
  }

  /** Strips the LLC header (either direction's is accepted: some meters get it wrong) and emits the APDU. */
  private deliver(info: Uint8Array): void {
    if (info.length < 3 || info[0] !== 0xe6 || (info[1] !== 0xe6 && info[1] !== 0xe7) || info[2] !== 0x00) {
      const head = Array.from(info.subarray(0, 3), (b) => b.toString(16).padStart(2, "0")).join(" ");
      throw new DecodeError("malformed", `HDLC information field lacks the LLC header E6 E6/E7 00 (starts "${head}")`);
    }
    this.events.push({ type: "apdu", apdu: info.slice(3) });
  }

  private checkClientSideAddresses(f: HdlcFrame): void {
    if (!sameBytes(f.dest, this.ownAddress))
      throw badAddress(`destination ${hex(f.dest)} is not our client address ${hex(this.ownAddress)}`);
    if (!this.isOurServer(f.src))
      throw badAddress(`source ${hex(f.src)} is not the server address ${hex(this.peerAddress)}`);
  }

  private checkServerSideAddresses(f: HdlcFrame): void {
    if (!this.isOurServer(f.dest))
      throw badAddress(`destination ${hex(f.dest)} is not this server (${hex(this.ownAddress)})`);
    if (f.src.length !== 1) throw badAddress(`source ${hex(f.src)} is not a 1-byte client address`);
    if (f.type !== "SNRM" && this.state === "connected" && !sameBytes(f.src, this.peerAddress)) {
      throw badAddress(`source ${hex(f.src)} is not the connected client ${hex(this.peerAddress)}`);
    }
  }

  /** Same logical/physical values as configured; the 2- and 4-byte forms of the same address are equivalent. */
  private isOurServer(bytes: Uint8Array): boolean {
    const server = this.role === "client" ? this.peerAddress : this.ownAddress;
    if (sameBytes(bytes, server)) return true; // the usual case: the very form we use
    const a = decodeAddress(new ByteReader(bytes));
    const { logical, physical } = this.serverAddress;
    return a.upper === logical && a.lower === physical;
  }

  // --- send path ----------------------------------------------------------------------------------------------

  /** Sends queued I-frames while the window allows; P/F goes on the window's last frame or the APDU's last. */
  private pump(): void {
    while (this.sendQueue.length > 0 && this.inFlight.length < this.negotiated.windowTx && !this.peerBusy) {
      const item = shiftQueue(this.sendQueue)!;
      this.inFlight.push(item);
      const poll = this.inFlight.length === this.negotiated.windowTx || !item.segmented;
      this.send(iControl(this.vs, this.vr, poll), item.info, item.segmented, item.prefix);
      this.vs = (this.vs + 1) & 7;
    }
  }

  /** Parameters are sent only when they differ from the defaults (the captured clients send a bare SNRM). */
  private sendSnrm(): void {
    this.send(uControl("SNRM", true), isDefault(this.own) ? undefined : encodeParameters(this.own));
  }

  private send(control: number, info?: Uint8Array, segmented = false, infoPrefix?: Uint8Array): void {
    this.outgoing.push(
      encodeFrame({ dest: this.peerAddress, src: this.ownAddress, control, info, infoPrefix, segmented }),
    );
  }

  private endLink(reason: "disc" | "ua" | "dm" | "frmr"): void {
    this.enterDisconnected();
    this.events.push({ type: "disconnected", reason });
  }

  private enterDisconnected(): void {
    this.state = "disconnected";
    this.resetSequence();
  }

  private resetSequence(): void {
    this.vs = 0;
    this.vr = 0;
    this.sendQueue.length = 0;
    this.inFlight = [];
    this.peerBusy = false;
    this.reassembly = [];
    this.reassembled = 0;
    this.segments = 0;
    this.reassemblyOverflow = false;
  }

  private discard(error: DlmsError): void {
    this.events.push({ type: "discarded", error });
  }

  private requireRole(role: "client" | "server", what: string): void {
    if (this.role !== role) throw new LocalProtocolError(`HDLC ${what} is for the ${role} role`);
  }
}

function unexpected(message: string): DecodeError {
  return new DecodeError("unexpected-frame", `HDLC ${message}`);
}

function badAddress(message: string): DecodeError {
  return new DecodeError("bad-address", `HDLC frame not for us: ${message}`);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function frameEvent(bytes: Uint8Array, frame: HdlcFrame): LinkEvent {
  return new RxFrameEvent(bytes, frame, describeFrame);
}
