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

/** What an opening connection needs until it is open; dropped then, so an open connection keeps none of it. */
interface Opening {
  resolve: () => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The transport a socket belongs to, for the socket listeners (shared by every socket). */
const owner = Symbol("TcpTransport");
type OwnedSocket = Socket & { [owner]?: TcpTransport };

export class TcpTransport implements Transport {
  private socket: Socket | undefined;
  private handler: (event: TransportEvent) => void = () => {};
  private closedEmitted = false;
  private opening: Opening | undefined;
  /** Connected once: only then do a socket's error and close become this transport's "closed" event. */
  private opened = false;

  constructor(private readonly options: TcpTransportOptions) {}

  onEvent(handler: (event: TransportEvent) => void): void {
    this.handler = handler;
  }

  // Memory per connection (BENCHMARKS.md, issue 9, seventh round): the socket's listeners are functions shared by
  // every socket (node:events calls them with the socket as `this`, and the socket names its transport), not
  // closures; closures over open()'s promise kept its resolve/reject, the cleared connect timer and their context
  // alive for the connection's whole life (≈ 0.4 kB per meter), and one closure per listener costs ≈ 56 B each.
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      // node:net reads `onread` in the Socket constructor (socket.connect() ignores it there).
      const socketOptions: SocketConstructorOpts & { onread: OnReadOpts } = {
        onread: { buffer: sharedReadBuffer, callback: this.onRead },
      };
      const socket: OwnedSocket = this.options.createSocket?.() ?? new Socket(socketOptions);
      socket[owner] = this;
      this.socket = socket;
      const timer = setTimeout(TcpTransport.onConnectTimeout, this.options.connectTimeoutMs, this);
      this.opening = { resolve, reject, timer };
      socket.setNoDelay(true);
      socket.once("connect", TcpTransport.onSocketConnect);
      socket.on("error", TcpTransport.onSocketError);
      socket.on("close", TcpTransport.onSocketClose);
      socket.connect(this.options.port, this.options.host);
    });
  }

  write(bytes: Uint8Array): void {
    if (!this.socket || this.socket.destroyed) throw new TransportError("closed", "write on a closed connection");
    this.socket.write(socketChunk(bytes));
  }

  close(): void {
    this.socket?.destroy();
  }

  // Copied out: the handler owns what it gets, and the next read overwrites the shared buffer. (A closure: node:net
  // does not document what `this` an onread callback gets.)
  private readonly onRead = (nread: number, buffer: Uint8Array): boolean => {
    this.handler({ type: "data", bytes: copyOut(buffer, nread) });
    return true; // keep reading
  };

  private static onSocketConnect(this: OwnedSocket): void {
    // biome-ignore lint/complexity/noThisInStatic: a socket listener: node:events calls it with the socket as `this`
    const transport = this[owner];
    if (!transport) return;
    transport.opened = true;
    transport.endOpening()?.resolve();
  }

  private static onConnectTimeout(transport: TcpTransport): void {
    const opening = transport.endOpening();
    transport.socket?.destroy();
    opening?.reject(
      new TransportError(
        "timeout",
        `connection to ${transport.where()} timed out after ${transport.options.connectTimeoutMs} ms`,
      ),
    );
  }

  private static onSocketError(this: OwnedSocket, error: NodeJS.ErrnoException): void {
    // biome-ignore lint/complexity/noThisInStatic: a socket listener: node:events calls it with the socket as `this`
    const transport = this[owner];
    if (!transport) return;
    const mapped = mapSocketError(error, transport.where());
    const opening = transport.endOpening();
    if (opening) opening.reject(mapped);
    else if (transport.opened) transport.emitClosed(mapped);
  }

  private static onSocketClose(this: OwnedSocket): void {
    // biome-ignore lint/complexity/noThisInStatic: a socket listener: node:events calls it with the socket as `this`
    const transport = this[owner];
    if (!transport) return;
    const opening = transport.endOpening();
    if (opening) {
      opening.reject(
        new TransportError("closed", `connection to ${transport.where()} closed before it was established`),
      );
    } else if (transport.opened) transport.emitClosed();
  }

  /** The pending open, once: cleared with its timer, so no later event can settle it again. */
  private endOpening(): Opening | undefined {
    const opening = this.opening;
    if (opening) {
      clearTimeout(opening.timer);
      this.opening = undefined;
    }
    return opening;
  }

  private where(): string {
    return `${this.options.host}:${this.options.port}`;
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
