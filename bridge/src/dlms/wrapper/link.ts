// IEC 62056-47 wrapper as a DataLink: no link-level connection (TCP is the connection), one APDU per PDU.
// Client: "connected" as soon as connect() is called. Server: connected on connect() or on the first valid PDU,
// whose source wPort it learns and answers to. PDUs for another wPort are discarded (bad-address).

import { DecodeError, type DlmsError, LocalProtocolError } from "../errors.js";
import { type DataLink, type LinkEvent, RxFrameEvent, shiftQueue } from "../link.js";
import { encodeWrapper, MAX_WRAPPER_PAYLOAD, WrapperDeframer, type WrapperPdu } from "./header.js";

export interface WrapperLinkOptions {
  role: "client" | "server";
  clientWPort: number;
  serverWPort: number;
  /** Largest APDU sent or accepted (default 65535, the most the length field holds). */
  maxPduLength?: number;
}

export class WrapperLink implements DataLink {
  readonly kind = "wrapper" as const;
  private connected = false;
  private readonly events: LinkEvent[] = [];
  private outgoing: Uint8Array[] = [];
  private readonly deframer: WrapperDeframer;
  private readonly maxPduLength: number;
  private peerWPort: number;
  private readonly ownWPort: number;

  constructor(private readonly opts: WrapperLinkOptions) {
    this.maxPduLength = Math.min(opts.maxPduLength ?? MAX_WRAPPER_PAYLOAD, MAX_WRAPPER_PAYLOAD);
    this.deframer = new WrapperDeframer({ maxPduLength: this.maxPduLength });
    const client = opts.role === "client";
    this.ownWPort = client ? opts.clientWPort : opts.serverWPort;
    this.peerWPort = client ? opts.serverWPort : opts.clientWPort;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  connect(): void {
    this.markConnected();
  }

  disconnect(): void {
    if (!this.connected) return;
    this.connected = false;
    this.events.push({ type: "disconnected", reason: "disc" });
  }

  sendApdu(apdu: Uint8Array): void {
    if (!this.connected) throw new LocalProtocolError("wrapper sendApdu() before connect()");
    if (apdu.length > this.maxPduLength) {
      throw new LocalProtocolError(`wrapper APDU of ${apdu.length} bytes exceeds maxPduLength ${this.maxPduLength}`);
    }
    this.outgoing.push(encodeWrapper(this.ownWPort, this.peerWPort, apdu));
  }

  receiveData(bytes: Uint8Array): void {
    this.deframer.push(bytes);
    for (let r = this.deframer.next(); r; r = this.deframer.next()) {
      if ("error" in r) {
        this.discard(r.error);
        continue;
      }
      const pdu = r.frame;
      this.events.push(new RxFrameEvent(r.bytes, pdu, describeWrapper));
      const error = this.checkPorts(pdu);
      if (error) {
        this.discard(error);
        continue;
      }
      if (this.opts.role === "server") {
        this.peerWPort = pdu.srcWPort;
        this.markConnected();
      } else if (!this.connected) {
        this.discard(new DecodeError("unexpected-frame", "wrapper PDU received before connect()"));
        continue;
      }
      this.events.push({ type: "apdu", apdu: pdu.payload });
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

  /** Client: the PDU must come from the server's wPort to ours. Server: it must be for our wPort (any client). */
  private checkPorts(pdu: WrapperPdu): DecodeError | null {
    if (pdu.dstWPort !== this.ownWPort) {
      return new DecodeError("bad-address", `wrapper PDU for wPort ${pdu.dstWPort}, we are ${this.ownWPort}`);
    }
    if (this.opts.role === "client" && pdu.srcWPort !== this.peerWPort) {
      return new DecodeError("bad-address", `wrapper PDU from wPort ${pdu.srcWPort}, expected ${this.peerWPort}`);
    }
    return null;
  }

  private markConnected(): void {
    if (this.connected) return;
    this.connected = true;
    this.events.push({ type: "connected" });
  }

  private discard(error: DlmsError): void {
    this.events.push({ type: "discarded", error });
  }
}

/** "WPDU 16->1 13B" for traces. */
export function describeWrapper(pdu: WrapperPdu): string {
  return `WPDU ${pdu.srcWPort}->${pdu.dstWPort} ${pdu.payload.length}B`;
}
