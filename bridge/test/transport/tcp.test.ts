import { createServer, type Server, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { mapSocketError, TcpTransport } from "../../src/transport/tcp.js";
import type { TransportEvent } from "../../src/transport/types.js";

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

function listen(onSocket: (s: Socket) => void): Promise<number> {
  server = createServer(onSocket);
  return new Promise((resolve) =>
    server!.listen(0, "127.0.0.1", () => resolve((server!.address() as { port: number }).port)),
  );
}

describe("TcpTransport", () => {
  it("writes bytes to the peer and delivers the peer's bytes, then reports the peer closing", async () => {
    const received: Buffer[] = [];
    const port = await listen((s) => {
      s.on("data", (d) => {
        received.push(d);
        s.end(Buffer.from([0xaa, 0xbb]));
      });
    });
    const t = new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 2000 });
    const events: TransportEvent[] = [];
    const closed = new Promise<void>((resolve) =>
      t.onEvent((e) => {
        events.push(e);
        if (e.type === "closed") resolve();
      }),
    );
    await t.open();
    t.write(new Uint8Array([1, 2, 3]));
    await closed;
    expect(Buffer.concat(received)).toEqual(Buffer.from([1, 2, 3]));
    expect(events).toEqual([{ type: "data", bytes: new Uint8Array([0xaa, 0xbb]) }, { type: "closed" }]);
  });

  it("hands each connection its own copy of the bytes although all sockets read into one shared buffer", async () => {
    // Every server connection answers its first chunk with a distinct 3-byte pattern; the client keeps what it got.
    let n = 0;
    const port = await listen((s) => {
      const me = ++n;
      s.on("data", () => s.write(Buffer.from([me, me, me])));
    });
    const got: Uint8Array[][] = [[], []];
    const transports = [0, 1].map((i) => {
      const t = new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 2000 });
      t.onEvent((e) => e.type === "data" && got[i]!.push(e.bytes));
      return t;
    });
    await transports[0]!.open();
    await transports[1]!.open();
    const firstAnswer = (i: number) =>
      new Promise<void>((resolve) => {
        const poll = () => (got[i]!.length > 0 ? resolve() : setTimeout(poll, 2));
        poll();
      });
    transports[0]!.write(new Uint8Array([1]));
    await firstAnswer(0);
    transports[1]!.write(new Uint8Array([1])); // this read overwrites the shared buffer
    await firstAnswer(1);
    expect(Buffer.concat(got[0]!)).toEqual(Buffer.from([1, 1, 1]));
    expect(Buffer.concat(got[1]!)).toEqual(Buffer.from([2, 2, 2]));
    for (const t of transports) t.close();
  });

  it("maps a refused connection to kind 'refused' naming host:port", async () => {
    const port = await listen(() => {});
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const t = new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 2000 });
    await expect(t.open()).rejects.toMatchObject({
      name: "TransportError",
      kind: "refused",
      message: `connection refused by 127.0.0.1:${port}`,
    });
  });

  it("times out a connect that never completes", async () => {
    // A socket whose connect never completes (like a SYN to a silent host): only our timer can end the attempt.
    class SilentSocket extends Socket {
      override connect(): this {
        return this;
      }
    }
    const t = new TcpTransport({
      host: "10.1.2.3",
      port: 4059,
      connectTimeoutMs: 50,
      createSocket: () => new SilentSocket(),
    });
    const events: TransportEvent[] = [];
    t.onEvent((e) => events.push(e));
    await expect(t.open()).rejects.toMatchObject({
      kind: "timeout",
      message: "connection to 10.1.2.3:4059 timed out after 50 ms",
    });
    // The destroyed socket's close comes after the rejection: a connection that never opened reports no "closed".
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([]);
  });

  it("reports the peer resetting an open connection once, as a closed event naming the peer", async () => {
    const port = await listen((s) => s.on("data", () => s.resetAndDestroy()));
    const t = new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 2000 });
    const events: TransportEvent[] = [];
    const closed = new Promise<void>((resolve) =>
      t.onEvent((e) => {
        events.push(e);
        if (e.type === "closed") setTimeout(resolve, 20); // a later error or close would land in `events`
      }),
    );
    await t.open();
    t.write(new Uint8Array([1]));
    await closed;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: "closed",
      error: { kind: "closed", message: `connection to 127.0.0.1:${port} reset by peer` },
    });
  });

  it("maps unreachable and unknown hosts", () => {
    for (const code of ["EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND"]) {
      const e = mapSocketError(Object.assign(new Error("x"), { code }), "meter:4059");
      expect(e.kind).toBe("unreachable");
      expect(e.message).toContain("meter:4059");
    }
  });
});
