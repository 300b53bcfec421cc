// Test helpers: a DlmsClient over TCP to a simulator port, and a raw socket that records what arrives.
import { Socket } from "node:net";
import { DlmsClient } from "../../src/client/client.js";
import type { AuthSettings, DlmsClientOptions, LinkSettings } from "../../src/client/types.js";
import { TcpTransport } from "../../src/transport/tcp.js";

export const HOST = "127.0.0.1";

export function client(
  port: number,
  link: LinkSettings = { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } },
  auth: AuthSettings = { mechanism: "none" },
  extra: Partial<DlmsClientOptions> = {},
): DlmsClient {
  const transport = new TcpTransport({ host: HOST, port, connectTimeoutMs: 2000 });
  return new DlmsClient({ transport, link, auth, timeoutMs: 1500, ...extra });
}

/** A plain TCP connection that records every byte and when it closed. */
export interface RawConnection {
  socket: Socket;
  received(): Uint8Array;
  /** Resolves when the peer closed the connection. */
  closed: Promise<void>;
  /** Resolves with all bytes once at least n have arrived (rejects after timeoutMs). */
  waitForBytes(n: number, timeoutMs?: number): Promise<Uint8Array>;
}

export async function raw(port: number): Promise<RawConnection> {
  const socket = new Socket();
  const chunks: Buffer[] = [];
  const listeners = new Set<() => void>();
  socket.on("data", (c: Buffer) => {
    chunks.push(c);
    for (const l of listeners) l();
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.connect(port, HOST, () => resolve());
  });
  const received = () => new Uint8Array(Buffer.concat(chunks));
  return {
    socket,
    received,
    closed,
    waitForBytes: (n, timeoutMs = 2000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (received().length < n) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(received());
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`only ${received().length} of ${n} byte(s) arrived within ${timeoutMs} ms`));
        }, timeoutMs);
        if (!check()) listeners.add(check);
      }),
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
