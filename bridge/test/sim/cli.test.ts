import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { buildSimOptions, runSim } from "../../src/cli/sim.js";
import { createLogger } from "../../src/log.js";
import { client } from "./helpers.js";

function collectingIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

/** A pino logger writing JSON lines into an array. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger("info", "sim", stream), lines };
}

describe("dlms-bridge sim: options", () => {
  it("maps flags to simulator options", () => {
    const options = buildSimOptions({
      transport: "wrapper",
      port: "5000",
      count: "3",
      "shared-port": true,
      "no-multiple-references": true,
      "obis-channel": "1",
      "delay-ms": "50",
      "last-frame-delay-ms": "900",
      "drop-mid-frame": true,
      "corrupt-fcs-every": "4",
      "unknown-object-denied": true,
      "silent-before-association": true,
      "trailing-garbage": true,
    });
    expect(options).toMatchObject({
      transport: "wrapper",
      port: 5000,
      count: 3,
      sharedPort: true,
      multipleReferences: false,
      obisChannel: 1,
      delayMs: 50,
      lastFrameDelayMs: 900,
      dropMidFrameAfter: 0,
      corruptFcsEvery: 4,
      unknownObject: "read-write-denied",
      beforeAssociation: "silence",
      trailingGarbage: true,
    });
  });

  it("maps --multiple-references-lls-only", () => {
    expect(buildSimOptions({ "multiple-references-lls-only": true }).multipleReferences).toBe("authenticated-only");
  });

  it("maps the load-profile options (--profile-period 1m --history 1h, clock offset, DST)", () => {
    expect(
      buildSimOptions({
        "profile-period": "1m",
        history: "1h",
        "clock-offset": "-5m",
        deviation: "-60",
        dst: "eu",
        "profile-rows": "5000",
      }),
    ).toEqual({
      profilePeriodSeconds: 60,
      profileHistoryMs: 3_600_000,
      clockOffsetMs: -300_000,
      clockDeviationMinutes: -60,
      dst: "eu",
      profileRows: 5000,
      auth: "none",
      sharedPort: false,
      multipleReferences: true,
      holdAfterClose: false,
      unknownObject: "object-undefined",
      beforeAssociation: "exception",
      silence: false,
      refuseAssociation: false,
      trailingGarbage: false,
      ignoreRelease: false,
    });
    expect(() => buildSimOptions({ "profile-period": "1500ms" })).toThrow(/--profile-period must be whole seconds/);
    expect(() => buildSimOptions({ history: "ages" })).toThrow(/--history 'ages' is not a duration/);
  });

  it("maps --wrapper-port", () => {
    expect(buildSimOptions({ "wrapper-port": "4060" }).wrapperPort).toBe(4060);
  });

  it("takes the LLS password from SIM_PASSWORD when --password is absent", () => {
    expect(buildSimOptions({ auth: "low" }, { SIM_PASSWORD: "envpass" }).password).toBe("envpass");
  });

  it.each([
    [["--auth", "low"], "--auth low needs --password"],
    [["--port", "70000"], "--port must be an integer from 0 to 65535"],
    [["--transport", "serial"], "--transport must be one of hdlc, wrapper"],
    [["--obis-channel", "2"], "--obis-channel"],
    [["--drop-after", "2"], "--drop-after goes with --drop-mid-frame"],
    [["--no-multiple-references", "--multiple-references-lls-only"], "exclude each other"],
    [["--bogus"], "Unknown option '--bogus'"],
  ])("rejects %j naming the culprit, exit 2", async (argv, message) => {
    const { io, err } = collectingIo();
    expect(await runSim(argv, io, { env: {} })).toBe(2);
    expect(err.join("\n")).toContain(message);
  });

  it("prints usage with --help", async () => {
    const { io, out } = collectingIo();
    expect(await runSim(["--help"], io)).toBe(0);
    expect(out.join("\n")).toContain("--shared-port");
  });
});

describe("dlms-bridge sim: running", () => {
  it("serves meters until stopped, logs connections and associations without the password, exits 0", async () => {
    const { io } = collectingIo();
    const { logger, lines } = capturedLogger();
    const stop = new AbortController();
    let ports: number[] = [];
    let exit: Promise<number> | undefined;
    const listening = new Promise<void>((done) => {
      const result = runSim(["--port", "0", "--count", "2", "--auth", "low", "--password", "TopSecret99"], io, {
        stop: stop.signal,
        logger,
        onListening: (p) => {
          ports = p;
          done();
        },
      });
      exit = result;
    });
    await listening;
    expect(ports).toHaveLength(2);
    const c = client(
      ports[1]!,
      { kind: "hdlc", clientAddress: 1, serverAddress: { logical: 1 } },
      { mechanism: "low", password: "TopSecret99" },
    );
    await c.connect();
    await c.release();
    stop.abort();
    expect(await exit).toBe(0);
    const events = lines.map((l) => l.event);
    expect(events).toEqual(
      expect.arrayContaining([
        "listening",
        "connection-opened",
        "association-associated",
        "connection-closed",
        "stopped",
      ]),
    );
    expect(JSON.stringify(lines)).not.toContain("TopSecret99");
  });

  it("stops cleanly on SIGTERM as a process (exit 0)", async () => {
    const main = resolve(import.meta.dirname, "../../src/cli/main.ts");
    const child = spawn(process.execPath, ["--import", "tsx", main, "sim", "--port", "0"], {
      cwd: resolve(import.meta.dirname, "../.."),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    const listening = new Promise<Record<string, unknown>>((done, fail) => {
      child.stdout.on("data", (c: Buffer) => {
        stdout += String(c);
        const line = stdout.split("\n").find((l) => l.includes('"listening"'));
        if (line) done(JSON.parse(line));
      });
      child.once("exit", (code) => fail(new Error(`sim exited early with ${code}: ${stdout}`)));
    });
    const started = await listening;
    expect((started.ports as number[])[0]).toBeGreaterThan(0);
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }, 20_000);
});
