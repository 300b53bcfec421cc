// An in-process pair of connected transports for tests: what one side writes, the other receives,
// delivered asynchronously (setImmediate) like a socket, so no test depends on synchronous re-entrancy.
import { type Transport, TransportError, type TransportEvent } from "./types.js";

export class MemoryTransport implements Transport {
  peer!: MemoryTransport;
  private handler: (event: TransportEvent) => void = () => {};
  private state: "idle" | "open" | "closed" = "idle";
  /** Every chunk this end wrote, in order (tests assert on the bytes on the wire). */
  readonly written: Uint8Array[] = [];

  onEvent(handler: (event: TransportEvent) => void): void {
    this.handler = handler;
  }

  async open(): Promise<void> {
    if (this.state === "closed") throw new TransportError("closed", "memory transport already closed");
    this.state = "open";
  }

  write(bytes: Uint8Array): void {
    if (this.state !== "open") throw new TransportError("closed", "write on a closed memory transport");
    const copy = bytes.slice();
    this.written.push(copy);
    setImmediate(() => this.peer.deliver(copy));
  }

  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    setImmediate(() => {
      this.handler({ type: "closed" });
      this.peer.peerClosed();
    });
  }

  get isOpen(): boolean {
    return this.state === "open";
  }

  private deliver(bytes: Uint8Array): void {
    if (this.state === "closed") return;
    this.handler({ type: "data", bytes });
  }

  private peerClosed(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.handler({ type: "closed", error: new TransportError("closed", "peer closed the memory transport") });
  }
}

/** Two connected ends: [client, server]. Both must be opened (the server end may be opened at once). */
export function createMemoryPair(): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
