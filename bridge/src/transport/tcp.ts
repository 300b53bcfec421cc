// TCP transport over node:net: bytes in and out, nothing else (framing belongs to the sans-IO core).
import { Socket } from "node:net";
import { type Transport, TransportError, type TransportEvent } from "./types.js";

export interface TcpTransportOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** Tests only: supplies the socket (e.g. one whose connect never completes). */
  createSocket?: () => Socket;
}

export class TcpTransport implements Transport {
  private socket: Socket | undefined;
  private handler: (event: TransportEvent) => void = () => {};
  private closedEmitted = false;

  constructor(private readonly options: TcpTransportOptions) {}

  onEvent(handler: (event: TransportEvent) => void): void {
    this.handler = handler;
  }

  open(): Promise<void> {
    const { host, port, connectTimeoutMs } = this.options;
    const where = `${host}:${port}`;
    return new Promise((resolve, reject) => {
      const socket = this.options.createSocket?.() ?? new Socket();
      this.socket = socket;
      let opened = false;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TransportError("timeout", `connection to ${where} timed out after ${connectTimeoutMs} ms`));
      }, connectTimeoutMs);
      socket.setNoDelay(true);
      socket.once("connect", () => {
        opened = true;
        clearTimeout(timer);
        resolve();
      });
      socket.on("data", (chunk: Buffer) => this.handler({ type: "data", bytes: new Uint8Array(chunk) }));
      socket.on("error", (error: NodeJS.ErrnoException) => {
        const mapped = mapSocketError(error, where);
        if (!opened) {
          clearTimeout(timer);
          reject(mapped);
        } else this.emitClosed(mapped);
      });
      socket.on("close", () => {
        clearTimeout(timer);
        if (opened) this.emitClosed();
        else reject(new TransportError("closed", `connection to ${where} closed before it was established`));
      });
      socket.connect(port, host);
    });
  }

  write(bytes: Uint8Array): void {
    if (!this.socket || this.socket.destroyed) throw new TransportError("closed", "write on a closed connection");
    this.socket.write(bytes);
  }

  close(): void {
    this.socket?.destroy();
  }

  private emitClosed(error?: Error): void {
    if (this.closedEmitted) return;
    this.closedEmitted = true;
    this.handler(error ? { type: "closed", error } : { type: "closed" });
  }
}

/** Turns a node:net error into a TransportError whose message names the peer and the cause. */
export function mapSocketError(error: NodeJS.ErrnoException, where: string): TransportError {
  switch (error.code) {
    case "ECONNREFUSED":
      return new TransportError("refused", `connection refused by ${where}`);
    case "ETIMEDOUT":
      return new TransportError("timeout", `connection to ${where} timed out`);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new TransportError("unreachable", `${where} is unreachable (${error.code})`);
    case "ECONNRESET":
    case "EPIPE":
      return new TransportError("closed", `connection to ${where} reset by peer`);
    default:
      return new TransportError("other", `connection to ${where} failed: ${error.message}`);
  }
}
