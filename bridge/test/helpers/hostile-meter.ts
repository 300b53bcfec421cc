// A hostile DLMS meter on real TCP for robustness tests: it accepts SNRM and AARQ like a meter (the real
// server-role HDLC link and APDU codec), then answers the first GET of each connection in one of several abusive
// ways. With several modes it takes the next one for each new connection, so a bridge that reconnects meets
// them all in turn.
import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { buildAare } from "../../src/dlms/apdu/builders.js";
import { conformanceMask } from "../../src/dlms/apdu/conformance.js";
import { decodeApdu, encodeApdu } from "../../src/dlms/apdu/index.js";
import type { Apdu, InvokeIdAndPriority } from "../../src/dlms/apdu/types.js";
import { encodeClientAddress, encodeServerAddress } from "../../src/dlms/hdlc/address.js";
import { iControl } from "../../src/dlms/hdlc/control.js";
import { HdlcDeframer } from "../../src/dlms/hdlc/deframer.js";
import { decodeFrame, encodeFrame } from "../../src/dlms/hdlc/frame.js";
import { HdlcLink } from "../../src/dlms/hdlc/link.js";

export const HOSTILE_MODES = [
  "random-bytes", // garbage instead of a reply, a kilobyte every 50 ms, forever
  "huge-length", // a reply whose array claims 2^32-1 elements
  "endless-segmentation", // one HDLC reply whose segments never end
  "endless-blocks", // a block transfer whose blocks never end
  "deep-nesting", // a value nested 1000 arrays deep
  "slow-bytes", // a valid reply, one byte every slowByteMs
  "reset-mid-frame", // half a reply frame, then a TCP reset
] as const;
export type HostileMode = (typeof HOSTILE_MODES)[number];

export interface HostileMeterOptions {
  /** Modes taken in turn, one per connection. */
  modes: readonly HostileMode[];
  /** Raw-data bytes per block (endless-blocks). Default 1000. */
  blockSize?: number;
  /** Pause before each block / segment (endless-blocks, endless-segmentation). Default 0. */
  delayMs?: number;
  /** slow-bytes: pause between bytes. Default 300 ms. */
  slowByteMs?: number;
  /** Largest HDLC information field the meter offers (the client's proposal may lower it). Default 128. */
  maxInfo?: number;
}

export interface HostileMeter {
  port: number;
  /** Connections accepted so far, and the mode each one got. */
  readonly sessions: HostileMode[];
  /** Bytes written to clients, all connections together. */
  readonly bytesSent: () => number;
  close(): Promise<void>;
}

const CLIENT = encodeClientAddress(16);
const SERVER = encodeServerAddress(1);
const SEGMENT = 120; // information bytes per hand-made segment (below the default 128)

export async function startHostileMeter(options: HostileMeterOptions): Promise<HostileMeter> {
  const sockets = new Set<Socket>();
  const sessions: HostileMode[] = [];
  const sent = { bytes: 0 };
  const server: Server = createServer((socket) => {
    const mode = options.modes[sessions.length % options.modes.length]!;
    sessions.push(mode);
    sockets.add(socket);
    const connection = new HostileConnection(socket, mode, options, sent);
    socket.on("close", () => {
      sockets.delete(socket);
      connection.stop();
    });
    socket.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("hostile meter: no TCP port");
  return {
    port: address.port,
    sessions,
    bytesSent: () => sent.bytes,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

class HostileConnection {
  private readonly link: HdlcLink;
  /** Once misbehaving by hand (endless segmentation), frames are read here instead of by the link. */
  private ownDeframer: HdlcDeframer | undefined;
  private timers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private vs = 0; // N(S) of the server's next I-frame
  private vr = 0; // N(S) expected next from the client
  private block = 0;

  constructor(
    private readonly socket: Socket,
    private readonly mode: HostileMode,
    private readonly options: HostileMeterOptions,
    private readonly sent: { bytes: number },
  ) {
    const info = options.maxInfo;
    this.link = new HdlcLink({
      role: "server",
      clientAddress: 16,
      serverAddress: { logical: 1 },
      ...(info === undefined ? {} : { proposed: { maxInfoTx: info, maxInfoRx: info } }),
    });
    socket.on("data", (bytes) => this.onData(bytes));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private onData(bytes: Uint8Array): void {
    if (this.ownDeframer) {
      this.onDataByHand(bytes);
      return;
    }
    this.link.receiveData(bytes);
    for (let e = this.link.nextEvent(); e; e = this.link.nextEvent()) {
      if (e.type === "frame") this.track(e.bytes, "rx");
      if (e.type !== "apdu") continue;
      let request: Apdu;
      try {
        request = decodeApdu(e.apdu);
      } catch {
        continue;
      }
      this.onRequest(request);
    }
    this.flush();
  }

  private onRequest(request: Apdu): void {
    if (request.tag === "aarq") {
      this.sendApdu(
        buildAare({
          result: "accepted",
          diagnostic: { source: "user", code: 0 },
          conformance: conformanceMask(["get", "block-transfer-with-get-or-read"]),
          maxReceivePduSize: 1024,
        }),
      );
      return;
    }
    if (request.tag === "rlrq") {
      this.sendApdu({ tag: "rlre", reason: 0 });
      return;
    }
    if (request.tag !== "get-request") return;
    if (request.kind === "next" && this.mode === "endless-blocks") {
      this.later(() => this.sendBlock(request.invoke, request.blockNumber + 1));
      return;
    }
    this.misbehave(request.invoke);
  }

  private misbehave(invoke: InvokeIdAndPriority): void {
    const invokeByte = (invoke.invokeId & 0x0f) | (invoke.confirmed ? 0x40 : 0) | (invoke.highPriority ? 0x80 : 0);
    switch (this.mode) {
      case "endless-blocks":
        this.sendBlock(invoke, 1);
        return;
      case "endless-segmentation":
        this.ownDeframer = new HdlcDeframer();
        this.sendSegment(true);
        return;
      case "huge-length":
        // GET-Response-Normal, data: array of 0xFFFFFFFF elements, followed by almost nothing.
        this.sendRaw(Uint8Array.of(0xc4, 0x01, invokeByte, 0x00, 0x01, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00));
        return;
      case "deep-nesting": {
        const depth = 1000; // 2 kB: under any max_reply, so the nesting bound is what refuses it
        const apdu = new Uint8Array(4 + depth * 2 + 1);
        apdu.set([0xc4, 0x01, invokeByte, 0x00]);
        for (let i = 0; i < depth; i++) apdu.set([0x01, 0x01], 4 + i * 2);
        apdu[apdu.length - 1] = 0x00;
        this.sendRaw(apdu);
        return;
      }
      case "random-bytes": {
        const spew = () => {
          this.write(randomBytes(1024));
          this.later(spew, 50);
        };
        spew();
        return;
      }
      case "slow-bytes": {
        const frames = this.framesOf(Uint8Array.of(0xc4, 0x01, invokeByte, 0x00, 0x11, 0x2a));
        const bytes = Buffer.concat(frames);
        let at = 0;
        const dribble = () => {
          if (at >= bytes.length) return;
          this.write(bytes.subarray(at, at + 1));
          at++;
          this.later(dribble, this.options.slowByteMs ?? 300);
        };
        dribble();
        return;
      }
      case "reset-mid-frame": {
        const frame = Buffer.concat(this.framesOf(Uint8Array.of(0xc4, 0x01, invokeByte, 0x00, 0x11, 0x2a)));
        this.write(frame.subarray(0, Math.floor(frame.length / 2)));
        this.later(() => this.socket.resetAndDestroy(), 20);
        return;
      }
    }
  }

  private sendBlock(invoke: InvokeIdAndPriority, blockNumber: number): void {
    this.block = blockNumber;
    const raw = new Uint8Array(this.options.blockSize ?? 1000).fill(this.block & 0xff);
    this.sendApdu({
      tag: "get-response",
      kind: "with-datablock",
      invoke,
      lastBlock: false,
      blockNumber,
      result: { ok: true, raw },
    });
  }

  /** Endless segmentation by hand: every RR of the client gets one more segment, none of them the last. */
  private onDataByHand(bytes: Uint8Array): void {
    const d = this.ownDeframer!;
    d.push(bytes);
    for (let r = d.next(); r; r = d.next()) {
      if ("error" in r) continue;
      if (r.frame.type === "RR" && r.frame.pf) this.later(() => this.sendSegment(true));
    }
  }

  private sendSegment(first: boolean): void {
    const info = new Uint8Array(SEGMENT).fill(0x55);
    if (first) info.set([0xe6, 0xe7, 0x00, 0xc4, 0x01, 0xc1, 0x00, 0x09, 0x84, 0x7f, 0xff, 0xff, 0xff]);
    this.write(
      encodeFrame({ dest: CLIENT, src: SERVER, control: iControl(this.vs, this.vr, true), info, segmented: true }),
    );
    this.vs = (this.vs + 1) & 7;
  }

  /** The APDU as the link would frame it, without sending (for byte-wise abuse). */
  private framesOf(apdu: Uint8Array): Buffer[] {
    this.link.sendApdu(apdu);
    return this.link.takeOutgoing().map((f) => {
      this.track(f, "tx");
      return Buffer.from(f);
    });
  }

  private sendApdu(apdu: Apdu): void {
    this.sendRaw(encodeApdu(apdu));
  }

  private sendRaw(apdu: Uint8Array): void {
    this.link.sendApdu(apdu);
    this.flush();
  }

  private flush(): void {
    for (const frame of this.link.takeOutgoing()) {
      this.track(frame, "tx");
      this.write(frame);
    }
  }

  /** Follows the link's sequence numbers, so hand-made frames continue them. */
  private track(frame: Uint8Array, direction: "rx" | "tx"): void {
    try {
      const f = decodeFrame(frame);
      if (f.type !== "I") return;
      if (direction === "tx") this.vs = (f.ns! + 1) & 7;
      else this.vr = (f.ns! + 1) & 7;
    } catch {
      // not a frame we can follow
    }
  }

  private write(bytes: Uint8Array): void {
    if (this.stopped || this.socket.destroyed) return;
    this.sent.bytes += bytes.length;
    this.socket.write(bytes);
  }

  private later(action: () => void, ms = this.options.delayMs ?? 0): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.stopped) action();
    }, ms);
    this.timers.add(t);
  }
}
