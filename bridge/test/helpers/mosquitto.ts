// Test harness: a real Mosquitto broker on a free 127.0.0.1 port, with its own temp dir and no persistence.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface MosquittoHandle {
  port: number;
  url: string;
  /** Stops the broker and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Stops the broker (SIGTERM) and starts it again on the same port; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Stops the broker without restarting it (for "broker down" scenarios); `restart()` brings it back. */
  kill(): Promise<void>;
}

export interface MosquittoOptions {
  /**
   * Extra lines appended to the generated mosquitto.conf (e.g. password_file). Started as root, mosquitto drops to
   * its own user before reading such files: make them (and their directory) world-readable.
   */
  extraConfig?: string;
  /** Milliseconds to wait for the broker to accept connections (default 10 s). */
  startTimeoutMs?: number;
}

const BINARY_CANDIDATES = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/usr/bin/mosquitto"];

function mosquittoBinary(): string {
  return BINARY_CANDIDATES.find((path) => existsSync(path)) ?? "mosquitto";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoHandle> {
  const dir = await mkdtemp(join(tmpdir(), "mosquitto-"));
  const configPath = join(dir, "mosquitto.conf");
  let port = 0;
  const writeConfig = async () => {
    const config = [
      `listener ${port} 127.0.0.1`,
      "allow_anonymous true",
      "persistence false",
      "log_dest stderr",
      "log_type error",
      "log_type warning",
      options.extraConfig ?? "",
    ].join("\n");
    await writeFile(configPath, `${config}\n`);
  };

  let child: ChildProcess | undefined;
  let stderr = "";

  async function launch(): Promise<void> {
    stderr = "";
    const proc = spawn(mosquittoBinary(), ["-c", configPath], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    proc.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const spawnError = new Promise<never>((_, reject) =>
      proc.once("error", (error) => reject(new Error(`cannot start mosquitto: ${error.message}`))),
    );
    const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
    const ready = (async () => {
      while (Date.now() < deadline) {
        if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}: ${stderr.trim()}`);
        if (await canConnect(port)) return;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      throw new Error(`mosquitto did not accept connections on port ${port}: ${stderr.trim()}`);
    })();
    await Promise.race([ready, spawnError]);
  }

  async function kill(): Promise<void> {
    const proc = child;
    child = undefined;
    if (!proc) return;
    const exited = waitForExit(proc);
    proc.kill("SIGTERM");
    const forceKill = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(forceKill);
  }

  // The free port may be taken between probing and binding (tests run in parallel): try another one.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    await writeConfig();
    try {
      await launch();
      break;
    } catch (error) {
      await kill();
      if (attempt >= 3 || !/in use/i.test(stderr)) {
        await rm(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
