// A TCP relay between the publisher and the broker, so tests can cut the network (the broker then sees an
// ungraceful close and sends the last will) or keep the publisher away while the test gets ready.
import { createConnection, createServer, type Socket } from "node:net";

export interface TcpProxy {
  port: number;
  url: string;
  /** Destroys every relayed connection in both directions (no MQTT DISCONNECT reaches the broker). */
  dropConnections(): void;
  /** Drops current connections and refuses new ones until unblock(). */
  block(): void;
  unblock(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let blocked = false;
  const server = createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const teardown = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const socket of pair) {
      socket.on("error", teardown);
      socket.on("close", teardown);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const dropConnections = () => {
    for (const [client, upstream] of pairs) {
      upstream.destroy();
      client.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dropConnections,
    block() {
      blocked = true;
      dropConnections();
    },
    unblock() {
      blocked = false;
    },
    close() {
      dropConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
