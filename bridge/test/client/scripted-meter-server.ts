// ScriptedMeter on real TCP: every connection to 127.0.0.1:<port> gets its own ScriptedMeter (one association per
// connection, like a meter behind a TCP converter), with the same options and script.
import { createServer, type Socket } from "node:net";
import { type Transport, TransportError, type TransportEvent } from "../../src/transport/types.js";
import { ScriptedMeter, type ScriptedMeterOptions } from "./scripted-meter.js";

/** The server side of one accepted socket as a Transport. */
class AcceptedSocket implements Transport {
  private handler: (event: TransportEvent) => void = () => {};

  constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.handler({ type: "data", bytes: new Uint8Array(chunk) }));
    socket.on("close", () => this.handler({ type: "closed" }));
    socket.on("error", () => undefined); // a client reset is expected in tests; "close" follows
  }

  onEvent(handler: (event: TransportEvent) => void): void {
    this.handler = handler;
  }

  async open(): Promise<void> {}

  write(bytes: Uint8Array): void {
    if (this.socket.destroyed) throw new TransportError("closed", "socket closed");
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface ScriptedMeterServer {
  port: number;
  /** One per accepted connection, in order. */
  readonly meters: ScriptedMeter[];
  close(): Promise<void>;
}

export async function serveScriptedMeter(options: ScriptedMeterOptions): Promise<ScriptedMeterServer> {
  const meters: ScriptedMeter[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    meters.push(new ScriptedMeter(new AcceptedSocket(socket), options));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no port");
  return {
    port: address.port,
    meters,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
