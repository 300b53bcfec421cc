// A fake meter that replays a captured conversation: each frame the client sends is matched (by kind, in order)
// with the next captured TX frame of that kind and answered with the RX frames that followed it in the capture
// (captured exchanges passed over are counted in `skipped`). Invoke ids in GET replies are rewritten to the
// client's (ours cycle, the capture's may not), with the HDLC FCS recomputed. A client frame with no counterpart
// left gets no answer (like a meter that ignores it) and is recorded as unmatched.
import { createServer, type Server } from "node:net";
import { concatBytes } from "../../src/dlms/codec/bytes.js";
import { decodeFrame, encodeFrame } from "../../src/dlms/hdlc/frame.js";
import type { Transport } from "../../src/transport/types.js";
import { loadVectorFrames } from "../dlms/vectors.js";

interface Exchange {
  kind: string;
  replies: Uint8Array[];
}

const LLC_LENGTH = 3;
const GET_REQUEST = 0xc0;
const GET_RESPONSE = 0xc4;

export class ReplayServer {
  private readonly exchanges: Exchange[] = [];
  private readonly wrapper: boolean;
  private buffer: Uint8Array = new Uint8Array(0);
  private next = 0;
  private invokeByte: number | undefined;
  /** Complete frames received from the client, in order. */
  readonly received: Uint8Array[] = [];
  /** Kinds of client frames that had no counterpart at that point of the capture (left unanswered). */
  readonly unmatched: string[] = [];
  /** Captured exchanges passed over to find the client's frame kind. */
  skipped = 0;

  constructor(file: string) {
    this.wrapper = file.includes("wrapper");
    for (const frame of loadVectorFrames(file)) {
      if (frame.dir === "tx") this.exchanges.push({ kind: this.kindOf(frame.bytes), replies: [] });
      else this.exchanges.at(-1)?.replies.push(frame.bytes);
    }
  }

  /** Feeds client bytes (any chunking); returns the captured replies to send, in order. */
  receive(bytes: Uint8Array): Uint8Array[] {
    this.buffer = concatBytes(this.buffer, bytes);
    const out: Uint8Array[] = [];
    for (let frame = this.takeFrame(); frame; frame = this.takeFrame()) {
      this.received.push(frame);
      const kind = this.kindOf(frame);
      const at = this.exchanges.findIndex((e, i) => i >= this.next && e.kind === kind);
      if (at < 0) {
        this.unmatched.push(kind);
        continue;
      }
      this.skipped += at - this.next;
      this.next = at + 1;
      const expected = this.exchanges[at]!;
      const invoke = this.requestInvokeByte(frame);
      if (invoke !== undefined) this.invokeByte = invoke;
      out.push(...this.patchInvokeIds(expected.replies));
    }
    return out;
  }

  /** Serves the replay on the server end of a transport pair. */
  attach(transport: Transport): void {
    transport.onEvent((event) => {
      if (event.type !== "data") return;
      for (const reply of this.receive(event.bytes)) transport.write(reply);
    });
    void transport.open();
  }

  /** Serves the replay to one TCP client on 127.0.0.1 (port 0: the OS picks); resolves with the port. */
  listen(): Promise<{ port: number; server: Server }> {
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      socket.on("data", (chunk) => {
        for (const reply of this.receive(new Uint8Array(chunk))) socket.write(reply);
      });
      socket.on("error", () => {});
    });
    return new Promise((resolve) =>
      server.listen(0, "127.0.0.1", () => resolve({ port: (server.address() as { port: number }).port, server })),
    );
  }

  /**
   * "SNRM", "DISC", "RR", "I:60" (AARQ), "I:c001" (GET-normal), "I:c002" (GET-next), "I:c003" (GET-with-list),
   * "I" (continuation segment); wrapper: "60", "c001"...
   */
  private kindOf(bytes: Uint8Array): string {
    if (this.wrapper) return apduKind(bytes.subarray(8));
    const f = decodeFrame(bytes);
    if (f.type !== "I") return f.type;
    const startsApdu = f.info[0] === 0xe6 && f.info[1] === 0xe6;
    return startsApdu ? `I:${apduKind(f.info.subarray(LLC_LENGTH))}` : "I";
  }

  private requestInvokeByte(frame: Uint8Array): number | undefined {
    const apdu = this.apduOf(frame);
    return apdu && apdu[0] === GET_REQUEST ? apdu[2] : undefined;
  }

  private apduOf(frame: Uint8Array): Uint8Array | undefined {
    if (this.wrapper) return frame.subarray(8);
    const f = decodeFrame(frame);
    return f.type === "I" && f.info[0] === 0xe6 ? f.info.subarray(LLC_LENGTH) : undefined;
  }

  private patchInvokeIds(replies: Uint8Array[]): Uint8Array[] {
    const invoke = this.invokeByte;
    if (invoke === undefined) return replies;
    let previousSegmented = false;
    return replies.map((reply) => {
      if (this.wrapper) {
        if (reply[8] !== GET_RESPONSE) return reply;
        const copy = reply.slice();
        copy[10] = invoke;
        return copy;
      }
      const f = decodeFrame(reply);
      const firstOfApdu = !previousSegmented;
      previousSegmented = f.format.segmented;
      if (!firstOfApdu || f.type !== "I" || f.info[0] !== 0xe6 || f.info[LLC_LENGTH] !== GET_RESPONSE) return reply;
      const info = f.info.slice();
      info[LLC_LENGTH + 2] = invoke;
      return encodeFrame({ dest: f.dest, src: f.src, control: f.control, info, segmented: f.format.segmented });
    });
  }

  private takeFrame(): Uint8Array | undefined {
    const b = this.buffer;
    let length: number;
    if (this.wrapper) {
      if (b.length < 8) return undefined;
      length = 8 + ((b[6]! << 8) | b[7]!);
    } else {
      if (b.length < 3) return undefined;
      if (b[0] !== 0x7e) throw new Error(`replay server: client bytes do not start with a flag: ${hex(b[0])}`);
      length = (((b[1]! & 0x07) << 8) | b[2]!) + 2;
    }
    if (b.length < length) return undefined;
    this.buffer = b.slice(length);
    return b.slice(0, length);
  }
}

function apduKind(apdu: Uint8Array): string {
  return apdu[0] === GET_REQUEST ? `${hex(apdu[0])}${hex(apdu[1])}` : hex(apdu[0]);
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, "0");
}
