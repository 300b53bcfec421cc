// The healthchecks of docker-compose.yml that read the kernel's socket table (no tool in the image, no probe
// connection) run here against real sockets: a wrong pattern would leave a service "unhealthy" forever and block
// everything that depends on it.
import { execFileSync } from "node:child_process";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { loadCompose } from "./stack-files.js";

const services = loadCompose().services;

function shellCheck(service: string): string {
  const test = services[service]?.healthcheck?.test;
  expect(Array.isArray(test) && test[0] === "CMD-SHELL", `${service} uses CMD-SHELL`).toBe(true);
  return (test as string[])[1]!;
}

/** The check with its fixed port (hex, as in /proc/net/tcp) replaced by `port`; true when it exits 0. */
function runWithPort(command: string, fixedPort: number, port: number): boolean {
  const fixed = fixedPort.toString(16).toUpperCase().padStart(4, "0");
  const actual = port.toString(16).toUpperCase().padStart(4, "0");
  expect(command).toContain(fixed);
  try {
    execFileSync("sh", ["-c", command.replaceAll(fixed, actual)], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => sockets.push(socket));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0 };
}

describe.runIf(process.platform === "linux")("socket-table healthchecks", () => {
  it("simulator: healthy while something listens on its port, not after", async () => {
    const command = shellCheck("simulator");
    const { server, port } = await listen();
    expect(runWithPort(command, 4059, port)).toBe(true);
    await new Promise((resolve) => server.close(resolve));
    servers.length = 0;
    expect(runWithPort(command, 4059, port)).toBe(false);
  });

  it("tb-gateway: healthy only while a connection to the broker's port is established", async () => {
    const command = shellCheck("tb-gateway");
    const { port } = await listen();
    expect(runWithPort(command, 1884, port)).toBe(false); // listening is not connected
    const client = createConnection({ port, host: "127.0.0.1" });
    sockets.push(client);
    await new Promise((resolve) => client.once("connect", resolve));
    expect(runWithPort(command, 1884, port)).toBe(true);
  });
});
