// The only thing the async client needs from the network: bytes out, bytes in, open and close.
// TCP is the production implementation; memory.ts pairs a client with an in-process server for tests.

export type TransportEvent = { type: "data"; bytes: Uint8Array } | { type: "closed"; error?: Error };

export interface Transport {
  /** Opens the connection; rejects with a TransportError naming host:port and the cause. */
  open(): Promise<void>;
  write(bytes: Uint8Array): void;
  /** Closes; a "closed" event follows. Idempotent. */
  close(): void;
  /** Exactly one handler; set before open(). */
  onEvent(handler: (event: TransportEvent) => void): void;
}

export class TransportError extends Error {
  override name = "TransportError";
  constructor(
    readonly kind: "refused" | "timeout" | "unreachable" | "closed" | "other",
    message: string,
  ) {
    super(message);
  }
}
