// `dlms-bridge read` against captured conversations served over real TCP: what the technician sees on stdout and
// stderr, and the exit status.
import { mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { CliIo } from "../../src/cli/args.js";
import { runRead } from "../../src/cli/read.js";
import { ReplayServer } from "../client/replay-server.js";
import { type HostileMeter, startHostileMeter } from "../helpers/hostile-meter.js";

const servers: Server[] = [];
const hostiles: HostileMeter[] = [];
beforeEach(() => {
  vi.stubEnv("DLMS_PASSWORD", undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
  for (const s of servers.splice(0)) s.close();
  for (const h of hostiles.splice(0)) void h.close();
});

async function hostile(options: Parameters<typeof startHostileMeter>[0]): Promise<number> {
  const meter = await startHostileMeter(options);
  hostiles.push(meter);
  return meter.port;
}

async function serve(file: string): Promise<{ port: number; replay: ReplayServer }> {
  const replay = new ReplayServer(file);
  const { port, server } = await replay.listen();
  servers.push(server);
  return { port, replay };
}

async function read(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await runRead(args, io);
  return { code, out, err };
}

const local = (port: number) => ["--host", "127.0.0.1", "--port", String(port), "--timeout", "300"];

describe("dlms-bridge read", () => {
  it("prints the register with scaler and unit applied (IEC OBIS form accepted)", async () => {
    const { port } = await serve("u9n_hdlc_none.txt");
    const r = await read([...local(port), "--obis", "1-1:21.25.0*255"]);
    expect(r).toEqual({ code: 0, out: ["1.1.21.25.0.255  0.12 Wh"], err: [] });
  });

  it("--json prints one object per OBIS with value, unit, scaler, raw value and type", async () => {
    const { port } = await serve("u9n_wrapper_none.txt");
    const r = await read([...local(port), "--transport", "wrapper", "--obis", "1.1.21.25.0.255", "--json"]);
    expect(r.code).toBe(0);
    expect(r.out.map((l) => JSON.parse(l))).toEqual([
      {
        obis: "1.1.21.25.0.255",
        classId: 3,
        attributeId: 2,
        value: 0.14,
        unit: "Wh",
        scaler: -2,
        raw: 14,
        type: "long-unsigned",
      },
    ]);
  });

  it("reads objects of several classes in one association (CLASS/OBIS form); non-registers print as JSON", async () => {
    const { port, replay } = await serve("u9n_hdlc_none.txt");
    const r = await read([...local(port), "--obis", "1.1.21.25.0.255", "--obis", "1/0.0.42.0.0.255"]);
    expect(r).toEqual({ code: 0, out: ["1.1.21.25.0.255  0.12 Wh", "0.0.42.0.0.255  GRX0000000123456"], err: [] });
    expect(replay.skipped).toBe(0);
    expect(replay.unmatched).toEqual([]);
  });

  it("reports an object the meter lacks with its data-access-result, prints the others, exits 1", async () => {
    const { port } = await serve("u9n_hdlc_unknown_obis.txt");
    const r = await read([...local(port), "--class", "1", "--obis", "1.0.32.7.0.255", "--obis", "1.1.21.25.0.255"]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual(["1.1.21.25.0.255  32"]);
    expect(r.err).toEqual(["1.0.32.7.0.255  error: attr 2: data-access-result read-write-denied (3)"]);
  });

  it("a wrong password exits 1 naming the diagnostic, never echoing the password", async () => {
    const { port } = await serve("u9n_hdlc_badpassword.txt");
    const r = await read([
      ...local(port),
      ...["--client", "17", "--auth", "low", "--password", "WRONG", "--obis", "1.1.21.25.0.255", "--trace"],
    ]);
    expect(r.code).toBe(1);
    expect(r.err.at(-1)).toBe("error: association rejected (rejected-permanent): authentication-failure (13)");
    const everything = [...r.out, ...r.err].join("\n");
    expect(everything).not.toContain("WRONG");
    expect(everything).not.toContain("57 52 4F 4E 47"); // "WRONG" in hex
    expect(everything).toContain("2A 2A 2A 2A 2A"); // masked in the AARQ trace
  });

  it("--trace shows every frame with direction, summary and hex on stderr", async () => {
    const { port } = await serve("u9n_hdlc_low.txt");
    const r = await read([
      ...local(port),
      ...["--client", "17", "--auth", "low", "--password", "Gurux", "--obis", "1/1.1.21.25.0.255", "--trace"],
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual(["1.1.21.25.0.255  13"]);
    const trace = r.err.join("\n");
    expect(trace).toMatch(/^TX SNRM/m);
    expect(trace).toContain("7E A0 07 03 23 93 BF 32 7E"); // our SNRM, byte for byte as captured
    expect(trace).toMatch(/^RX UA/m);
    expect(trace).toMatch(/^TX I\(.*AARQ mechanism=low \(password masked\)/m);
    expect(trace).toMatch(/^TX DISC/m);
    expect(trace).not.toContain("47 75 72 75 78"); // "Gurux"
    expect(trace).not.toContain("Gurux");
  });

  it("takes the LLS password from DLMS_PASSWORD when --password is absent", async () => {
    vi.stubEnv("DLMS_PASSWORD", "Gurux");
    const { port } = await serve("u9n_hdlc_low.txt");
    const r = await read([...local(port), "--client", "17", "--auth", "low", "--obis", "1/1.1.21.25.0.255"]);
    expect(r).toEqual({ code: 0, out: ["1.1.21.25.0.255  13"], err: [] });
  });

  it("connection refused exits 1 naming host:port", async () => {
    const { port } = await serve("u9n_hdlc_none.txt");
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const r = await read([...local(port), "--obis", "1.1.21.25.0.255"]);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([`error: connection refused by 127.0.0.1:${port}`]);
  });

  it("silence after SNRM exits 1 with the address hint", async () => {
    const { port } = await serve("u9n_hdlc_bad_server_addr.txt");
    const r = await read([...local(port), "--physical", "17", "--address-size", "2", "--obis", "1.1.21.25.0.255"]);
    expect(r.code).toBe(1);
    expect(r.err[0]).toContain("no answer to SNRM: check the server/physical address and the client SAP");
    expect(r.err[0]).toContain("step snrm");
  });

  it("--meter takes the connection and password from an env file", async () => {
    // This LLS association grants GET-with-list, which the capture never saw: read one class-1 value only.
    const { port } = await serve("u9n_hdlc_low.txt");
    const dir = mkdtempSync(join(tmpdir(), "dlms-read-"));
    const env = join(dir, ".env");
    writeFileSync(
      env,
      `METER_M1=hdlc://127.0.0.1:${port}?client=17&server=1&auth=low&timeout=1s\nMETER_M1_PASSWORD=Gurux\n`,
    );
    const r = await read(["--meter", "m1", "--env", env, "--obis", "1/1.1.21.25.0.255"]);
    expect(r).toEqual({ code: 0, out: ["1.1.21.25.0.255  13"], err: [] });
  });

  it.each([
    [["--obis", "1.0.32.7.0.255"], "--host is required"],
    [["--host", "h", "--obis", "1.0.32.7"], 'invalid OBIS code "1.0.32.7"'],
    [["--host", "h"], "give at least one --obis"],
    [
      ["--host", "h", "--obis", "1.0.1.8.0.255", "--port", "70000"],
      "--port must be an integer from 1 to 65535, got '70000'",
    ],
    [["--host", "h", "--obis", "1.0.1.8.0.255", "--auth", "low"], "--auth low needs --password"],
    [["--host", "h", "--obis", "1.0.1.8.0.255", "--client", "200"], "--client must be an integer from 0 to 127"],
    [
      ["--host", "h", "--obis", "1.0.1.8.0.255", "--transport", "wrapper", "--physical", "5"],
      "apply to --transport hdlc only",
    ],
    [["--host", "h", "--obis", "1.0.1.8.0.255", "--transport", "serial"], "--transport must be one of hdlc, wrapper"],
    [["--host", "h", "--obis", "1.0.1.8.0.255", "--bogus"], "Unknown option '--bogus'"],
    [["--meter", "nope", "--env", "/nonexistent/.env"], "cannot read env file '/nonexistent/.env'"],
  ])("bad usage %j exits 2 naming the culprit", async (args, message) => {
    const r = await read(args);
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain(message);
    expect(r.out).toEqual([]);
  });

  it("--help prints the usage and exits 0", async () => {
    const r = await read(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^usage: dlms-bridge read --host H/);
  });

  it("--deadline ends the whole read against a meter that keeps answering, naming the deadline", async () => {
    const port = await hostile({ modes: ["endless-blocks"], blockSize: 10, delayMs: 20 });
    const r = await read(["--host", "127.0.0.1", "--port", String(port), "--obis", "1.0.1.8.0.255", "--deadline", "1"]);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(/deadline of 1 s passed/);
  });

  it("--max-reply bounds one reply: an endless block transfer ends with 'larger than N bytes'", async () => {
    const port = await hostile({ modes: ["endless-blocks"], blockSize: 1000 });
    const r = await read([
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--obis",
      "1.0.1.8.0.255",
      "--max-reply",
      "8k",
    ]);
    expect(r.code).toBe(1);
    expect(r.err.join("\n")).toMatch(
      /^error: reply to GET 1\.0\.1\.8\.0\.255 class 3 attr 2 larger than 8192 bytes: 9000 bytes in 9 block\(s\)/,
    );
  });

  it("refuses a malformed --deadline or --max-reply as bad usage", async () => {
    expect((await read(["--host", "h", "--obis", "1.0.1.8.0.255", "--deadline", "soon"])).code).toBe(2);
    const r = await read(["--host", "h", "--obis", "1.0.1.8.0.255", "--max-reply", "10"]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain("--max-reply: '10' is not between 1024 and 16777216 bytes");
  });
});
