// One TCP connection to the simulator: finds which meter the first frame addresses, then pumps bytes through
// that meter's data link and server association, applying the configured faults on the way out.

import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { decodeApdu, encodeApdu } from "../dlms/apdu/index.js";
import type { Apdu } from "../dlms/apdu/types.js";
import { decodeFrame } from "../dlms/hdlc/frame.js";
import { HdlcLink, peekDestination } from "../dlms/hdlc/link.js";
import type { DataLink } from "../dlms/link.js";
import { ServerAssociation } from "../dlms/server/association.js";
import { SecureServerAssociation } from "../dlms/server/secure-association.js";
import { WrapperLink } from "../dlms/wrapper/link.js";
import type { Logger } from "../log.js";
import { socketChunk } from "../transport/socket-bytes.js";
import { describeTarget, type FirstFrameTarget, hdlcTarget, wrapperSourceWPort, wrapperTarget } from "./first-frame.js";
import { withFrameCounter } from "./frame-counter.js";
import { type MeterSlot, StaleLink } from "./meter-slot.js";
import type { ResolvedOptions } from "./options.js";

export interface ConnectionContext {
  /** The data link this listener speaks (a simulator may serve the same meters over both). */
  transport: "hdlc" | "wrapper";
  options: ResolvedOptions;
  logger: Logger;
  conformance: (clientSap: number) => number;
  /** The meter this target addresses on this listener, or undefined (the frame is ignored, like a real bus). */
  resolve(target: FirstFrameTarget): MeterSlot | undefined;
}

/** What --trailing-garbage appends after a GET response (seen on real meters after a clock value). */
const TRAILING_GARBAGE = Uint8Array.of(0x00, 0x0d);

/** Bytes buffered while looking for the first valid frame; beyond this the peer is not speaking DLMS. */
const MAX_UNBOUND_BYTES = 4096;

export class MeterConnection {
  private meter: MeterSlot | undefined;
  private link: DataLink | undefined;
  /**
   * One association per client SAP, as a meter keeps them: over the wrapper every PDU names its client wPort, so
   * several clients may share the TCP connection, each judged by its own SAP. HDLC has one client per link at a
   * time (a new SNRM starts over), so it only ever holds the SNRM's SAP.
   */
  private readonly associations = new Map<number, ServerAssociation>();
  /** HLS-GMAC client SAPs (auth hls-gmac): the secure layer in front of their association. */
  private readonly secures = new Map<number, SecureServerAssociation>();
  /** Client SAP of the latest SNRM (HDLC) or of the PDU being answered (wrapper). */
  private clientSap = 0;
  private unbound: Uint8Array[] = [];
  private unboundLength = 0;
  private answersSent = 0;
  private readonly inactivity: NodeJS.Timeout;
  private closed = false;
  private timedOut = false;
  private previousSegmented = false;
  private lastActivity = performance.now();
  private readonly remote: string;
  private markClosed: () => void = () => {};
  /** Settles once the socket has closed and the close was logged. */
  readonly whenClosed = new Promise<void>((resolve) => {
    this.markClosed = resolve;
  });

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ConnectionContext,
    private readonly onClose: (connection: MeterConnection) => void,
  ) {
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    this.inactivity = setTimeout(() => this.timeOut(), ctx.options.inactivityTimeoutSeconds * 1000);
    socket.on("data", (chunk: Buffer) => this.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    socket.on("error", (error) => this.log("debug", { error: error.message }, "socket error"));
    socket.on("close", () => this.onSocketClosed());
    this.log("info", { event: "connection-opened", localPort: socket.localPort }, "connection opened");
  }

  /** Drops the connection at once (simulator shutdown); resolves when it is closed. */
  destroy(): Promise<void> {
    this.socket.destroy();
    return this.whenClosed;
  }

  private onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.inactivity.refresh();
    this.lastActivity = performance.now();
    if (this.link) {
      this.link.receiveData(chunk);
      this.pump();
      return;
    }
    this.unbound.push(chunk.slice());
    this.unboundLength += chunk.length;
    this.tryBind();
  }

  /** Looks for the first complete frame and attaches the meter it addresses. */
  private tryBind(): void {
    const bytes = new Uint8Array(Buffer.concat(this.unbound));
    const target = this.ctx.transport === "hdlc" ? hdlcTarget(bytes) : wrapperTarget(bytes);
    if (!target) {
      if (this.unboundLength > MAX_UNBOUND_BYTES) {
        this.log("info", { event: "garbage", bytes: this.unboundLength }, "no DLMS frame in the first bytes: closing");
        this.socket.destroy();
      }
      return;
    }
    this.unbound = [];
    this.unboundLength = 0;
    const meter = this.ctx.resolve(target);
    if (!meter) {
      // Like a meter on a bus: a frame for another address gets no answer at all.
      this.log(
        "info",
        { event: "unknown-address", target: describeTarget(target) },
        "frame for no meter here: ignored",
      );
      return;
    }
    if (meter.busyWith instanceof StaleLink && target.transport === "hdlc" && target.disc) {
      meter.busyWith.release(); // DISC frees a meter left associated by a vanished client
    }
    if (meter.busyWith && meter.busyWith !== this) {
      this.refuseBusy(meter, target);
      return;
    }
    this.attach(meter, target);
    this.link!.receiveData(bytes);
    this.pump();
  }

  /**
   * One association at a time per meter, as real meters: a second connection gets DM to its SNRM (HDLC) or is
   * closed without an answer (wrapper); the first connection is not disturbed.
   */
  private refuseBusy(meter: MeterSlot, target: FirstFrameTarget): void {
    meter.stats.busyRefusals += 1;
    this.log("info", { event: "busy", meter: meter.serialNumber }, "meter busy with another connection: refused");
    if (target.transport === "hdlc") this.socket.end(target.dmFrame);
    else this.socket.end();
  }

  private attach(meter: MeterSlot, target: FirstFrameTarget): void {
    const o = this.ctx.options;
    this.meter = meter;
    this.clientSap = target.clientSap;
    meter.busyWith = this;
    meter.stats.connections += 1;
    this.link =
      target.transport === "hdlc"
        ? new HdlcLink({
            role: "server",
            clientAddress: target.clientSap,
            serverAddress: { logical: target.logical, physical: target.physical },
            // The meter's maxima: the UA answers with the smaller of these and the client's proposal.
            proposed: {
              maxInfoTx: o.hdlcMaxInfo,
              maxInfoRx: o.hdlcMaxInfo,
              windowTx: o.hdlcWindow,
              windowRx: o.hdlcWindow,
            },
          })
        : new WrapperLink({ role: "server", clientWPort: target.clientSap, serverWPort: target.wPort });
    this.log("debug", { event: "meter-selected", target: describeTarget(target) }, "connection bound to meter");
  }

  /** The association of a client SAP on this connection (created unassociated on its first request). */
  private associationFor(clientSap: number): ServerAssociation {
    let association = this.associations.get(clientSap);
    if (!association) {
      const o = this.ctx.options;
      association = new ServerAssociation({
        objects: o.hls ? withFrameCounter(this.meter!.model, this.meter!.security.clientCounters) : this.meter!.model,
        auth: o.clients,
        conformance: this.ctx.conformance,
        maxPduSize: o.maxPduSize,
        serverSap: o.serverLogical,
        unknownObject: o.unknownObject,
        beforeAssociation: o.beforeAssociation,
        releaseSupported: !o.ignoreRelease,
        refuseAssociation: o.refuseAssociation,
      });
      this.associations.set(clientSap, association);
    }
    return association;
  }

  /** The HLS-GMAC layer of a client SAP, when the meter requires it for that SAP. */
  private secureFor(clientSap: number): SecureServerAssociation | undefined {
    const hls = this.ctx.options.hls;
    if (!hls?.clients.has(clientSap)) return undefined;
    let secure = this.secures.get(clientSap);
    if (!secure) {
      const meter = this.meter!;
      secure = new SecureServerAssociation(this.associationFor(clientSap), {
        systemTitle: meter.security.systemTitle,
        keys: { ek: hls.blockKey, ak: hls.authKey },
        clients: hls.clients,
        state: meter.security,
        challenge: () => new Uint8Array(randomBytes(16)),
        faults: { badTag: hls.badTag ?? false, replayCounter: hls.replayCounter ?? false },
      });
      this.secures.set(clientSap, secure);
    }
    return secure;
  }

  /** The link went down: every association on it ends without RLRQ. */
  private resetAssociations(): void {
    for (const association of this.associations.values()) association.reset();
    this.associations.clear();
    for (const secure of this.secures.values()) secure.reset();
    this.secures.clear();
  }

  private pump(): void {
    const link = this.link!;
    let lastFrame: Uint8Array | undefined;
    for (let event = link.nextEvent(); event; event = link.nextEvent()) {
      switch (event.type) {
        case "frame":
          this.meter!.stats.framesIn += 1;
          lastFrame = event.bytes;
          break;
        case "discarded":
          this.meter!.stats.discarded += 1;
          this.log("debug", { event: "discarded", reason: event.error.message }, "frame discarded");
          break;
        case "connected":
          if (link.kind === "hdlc") {
            // A new SNRM starts a new link, possibly from another client SAP: no association yet.
            this.resetAssociations();
            this.clientSap = (lastFrame && peekDestination(lastFrame)?.client) ?? this.clientSap;
          }
          break;
        case "disconnected":
          this.resetAssociations();
          this.log("info", { event: "link-closed", reason: event.reason }, "link disconnected");
          break;
        case "apdu":
          // Wrapper: each PDU is judged by the client wPort that sent it (its frame event came just before).
          if (link.kind === "wrapper" && lastFrame) this.clientSap = wrapperSourceWPort(lastFrame);
          this.answer(event.apdu);
          break;
      }
    }
    this.flush();
  }

  private answer(bytes: Uint8Array): void {
    const secure = this.secureFor(this.clientSap);
    if (secure) {
      this.meter!.stats.requests += 1;
      this.answerSecure(secure, bytes);
      return;
    }
    const association = this.associationFor(this.clientSap);
    this.meter!.stats.requests += 1;
    let request: Apdu | undefined;
    try {
      request = decodeApdu(bytes);
    } catch (error) {
      this.log("debug", { event: "undecodable-apdu", reason: (error as Error).message }, "APDU not understood");
    }
    const response = request ? association.handle(request, this.clientSap) : association.handleUndecodable();
    for (const e of association.takeEvents()) {
      if (e.type === "associated") this.meter!.stats.associations += 1;
      if (e.type === "rejected") this.meter!.stats.rejectedAssociations += 1;
      this.log("info", { event: `association-${e.type}`, ...e }, `association ${e.type}`);
    }
    if (!response) return;
    try {
      const apdu = encodeApdu(response);
      const junk = this.ctx.options.trailingGarbage && response.tag === "get-response";
      this.link!.sendApdu(junk ? Buffer.concat([apdu, TRAILING_GARBAGE]) : apdu);
    } catch (error) {
      this.log("warn", { event: "send-failed", reason: (error as Error).message }, "could not send the answer");
    }
  }

  /** HLS-GMAC client: the secure association opens, answers and ciphers; events are logged without secrets. */
  private answerSecure(secure: SecureServerAssociation, bytes: Uint8Array): void {
    let response: Uint8Array | null;
    try {
      response = secure.handleBytes(bytes, this.clientSap);
    } catch (error) {
      this.log("warn", { event: "secure-failed", reason: (error as Error).message }, "could not answer");
      return;
    }
    for (const e of secure.takeEvents()) {
      if (e.type === "hls-authenticated") this.meter!.stats.associations += 1;
      if (e.type === "hls-rejected" && e.step === "aarq") this.meter!.stats.rejectedAssociations += 1;
      this.log("info", { event: e.type, ...e }, e.type);
    }
    this.associationFor(this.clientSap).takeEvents();
    if (response) this.link!.sendApdu(response);
  }

  /** Sends what the link queued, through the fault plan: silence, delay, corruption, drop mid-frame. */
  private flush(): void {
    const frames = this.link!.takeOutgoing();
    if (frames.length === 0) return;
    if (!this.meter!.faults.admitAnswer()) return;
    const delay = this.ctx.options.delayMs;
    if (delay > 0) setTimeout(() => this.write(frames), delay);
    else this.write(frames);
  }

  private write(frames: Uint8Array[]): void {
    if (this.closed) return;
    const dropAfter = this.ctx.options.dropMidFrameAfter;
    if (dropAfter !== undefined && this.answersSent >= dropAfter) {
      const first = frames[0]!;
      this.log("info", { event: "drop-mid-frame" }, "fault: dropping the connection mid-frame");
      this.socket.write(first.subarray(0, Math.ceil(first.length / 2)), () => this.socket.destroy());
      this.closed = true;
      return;
    }
    for (const frame of frames) {
      const delay = this.isLastOfSegmentedReply(frame) ? this.ctx.options.lastFrameDelayMs : 0;
      if (delay > 0) setTimeout(() => this.send(frame), delay);
      else this.send(frame);
    }
    this.answersSent += 1;
  }

  /** Whether the client went away with the link (HDLC) or the association (wrapper) still up. */
  private leftAssociated(): boolean {
    if (this.timedOut || !this.link) return false;
    if (this.link.kind === "hdlc") return this.link.isConnected;
    for (const association of this.associations.values()) if (association.isAssociated) return true;
    return false;
  }

  private send(frame: Uint8Array): void {
    if (this.closed) return;
    this.socket.write(socketChunk(this.meter!.faults.frameToSend(frame, this.ctx.transport)));
    this.meter!.stats.framesOut += 1;
  }

  /** The final I-frame of a segmented HDLC reply (what some meters hold back for seconds). */
  private isLastOfSegmentedReply(frame: Uint8Array): boolean {
    if (this.ctx.transport !== "hdlc" || this.ctx.options.lastFrameDelayMs === 0) return false;
    const { type, format } = decodeFrame(frame);
    if (type !== "I") return false;
    const last = this.previousSegmented && !format.segmented;
    this.previousSegmented = format.segmented;
    return last;
  }

  private timeOut(): void {
    this.timedOut = true;
    this.log(
      "info",
      { event: "inactivity-timeout", seconds: this.ctx.options.inactivityTimeoutSeconds },
      "inactivity timeout",
    );
    this.resetAssociations();
    this.link?.disconnect();
    this.socket.destroy();
  }

  private onSocketClosed(): void {
    this.closed = true;
    clearTimeout(this.inactivity);
    if (this.meter?.busyWith === this) {
      const timeoutMs = this.ctx.options.inactivityTimeoutSeconds * 1000;
      if (this.ctx.options.holdAfterClose && this.leftAssociated()) {
        new StaleLink(this.meter, timeoutMs - (performance.now() - this.lastActivity));
      } else {
        this.meter.busyWith = undefined;
      }
    }
    this.log(
      "info",
      { event: "connection-closed", stats: this.meter ? { ...this.meter.stats } : undefined },
      "connection closed",
    );
    this.onClose(this);
    this.markClosed();
  }

  private log(level: "info" | "debug" | "warn", fields: Record<string, unknown>, message: string): void {
    this.ctx.logger[level]({ remote: this.remote, meter: this.meter?.serialNumber, ...fields }, message);
  }
}
