// TCP transport over node:net: bytes in and out, nothing else (framing belongs to the sans-IO core).
import { type OnReadOpts, Socket, type SocketConstructorOpts } from "node:net";
import { copyOut, socketChunk } from "./socket-bytes.js";
import { type Transport, TransportError, type TransportEvent } from "./types.js";

/**
 * One receive buffer for every socket of the process. Without `onread`, node:net mallocs 64 kB per read, shrinks it
 * to the bytes read and wraps it in a Buffer that lives until the next GC; with it, a GET costs ≈ 4–7 µs less client
 * CPU (BENCHMARKS.md, issue 9, fourth round). Reads are delivered one at a time on the event loop and copied out
 * before the callback returns, so sharing is safe.
 */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

export interface TcpTransportOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** Tests only: supplies the socket (e.g. one whose connect never completes); it gets no `onread`, so no data. */
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
      // node:net reads `onread` in the Socket constructor (socket.connect() ignores it there).
      const socketOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
        onread: {
          buffer: sharedReadBuffer,
          // Copied out: the handler owns what it gets, and the next read overwrites the buffer.
          callback: (nread, buffer) => {
            this.handler({ type: "data", bytes: copyOut(buffer, nread) });
            return true; // keep reading
          },
        },
      };
      const socket = this.options.createSocket?.() ?? new Socket(socketOptions);
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
    this.socket.write(socketChunk(bytes));
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
