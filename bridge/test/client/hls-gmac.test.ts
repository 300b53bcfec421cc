// HLS-GMAC with ciphered APDUs (security suite 0): our client against our simulator over real TCP, HDLC and the
// wrapper, for every security policy; then each way it can go wrong gives its own error naming the step.
import { afterEach, describe, expect, it } from "vitest";
import { DlmsClient } from "../../src/client/client.js";
import { SecurityFailureError } from "../../src/client/errors.js";
import { readRegisters, ScalerCache } from "../../src/client/reads.js";
import type { DlmsClientOptions, HlsGmacSettings, LinkSettings } from "../../src/client/types.js";
import { fromHex, toHex } from "../../src/dlms/codec/hex.js";
import { decodeObjectList } from "../../src/dlms/cosem/association-ln.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../../src/sim/server.js";
import { TcpTransport } from "../../src/transport/tcp.js";

const AK = fromHex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");
const EK = fromHex("B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF");
const CLIENT_TITLE = new TextEncoder().encode("TESTCLNT");
const REGISTERS = [
  { key: "voltage", obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 },
  { key: "current", obis: "1.0.31.7.0.255", classId: 3, attributeId: 2 },
  { key: "energy", obis: "1.0.1.8.0.255", classId: 3, attributeId: 2 },
];

const running: RunningSimulator[] = [];
const clients: DlmsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of running.splice(0)) await s.close();
});

async function simulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({
    host: "127.0.0.1",
    port: 0,
    auth: "hls-gmac",
    ...options,
    hls: { ...options.hls, authKey: AK, blockKey: EK },
  });
  running.push(sim);
  return sim;
}

function counter(start = 1) {
  let next = start;
  const used: number[] = [];
  return {
    used,
    next: () => {
      used.push(next);
      return next++;
    },
    raiseTo: (v: number) => {
      next = Math.max(next, v);
    },
  };
}

function hls(overrides: Partial<HlsGmacSettings> = {}): HlsGmacSettings {
  return {
    mechanism: "hls-gmac",
    policy: "auth-enc",
    systemTitle: CLIENT_TITLE,
    keys: { ek: EK, ak: AK },
    counter: counter(),
    ...overrides,
  };
}

function client(port: number, opts: Partial<Omit<DlmsClientOptions, "transport">> = {}) {
  const c = new DlmsClient({
    transport: new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 1000 }),
    link: opts.link ?? { kind: "hdlc", clientAddress: 1, serverAddress: { logical: 1 } },
    auth: opts.auth ?? hls(),
    timeoutMs: opts.timeoutMs ?? 2000,
    ...opts,
  });
  clients.push(c);
  return c;
}

describe("HLS-GMAC round trips against the simulator", () => {
  for (const transport of ["hdlc", "wrapper"] as const) {
    for (const policy of ["auth", "enc", "auth-enc"] as const) {
      it(`${transport}, security ${policy}: associates, reads registers (with-list) and the object list (block transfer)`, async () => {
        const sim = await simulator({ transport, maxPduSize: 256 });
        const link: LinkSettings =
          transport === "wrapper"
            ? { kind: "wrapper", clientAddress: 1, serverAddress: { logical: 1 } }
            : { kind: "hdlc", clientAddress: 1, serverAddress: { logical: 1 } };
        const frames: { dir: string; hex: string; summary: string }[] = [];
        const c = client(sim.ports[0]!, {
          link,
          auth: hls({ policy }),
          maxReceivePduSize: 256,
          onFrame: (dir, bytes, summary) => frames.push({ dir, hex: toHex(bytes, ""), summary }),
        });
        const info = await c.connect();
        expect(info.multipleReferences).toBe(true);
        const values = await readRegisters(c, REGISTERS, new ScalerCache());
        expect(values.voltage).toMatchObject({ unit: "V", value: expect.closeTo(230, -2) });
        expect(values.energy).toMatchObject({ unit: "Wh" });
        // object_list is larger than 256 bytes: ciphered GET with block transfer
        const list = decodeObjectList(
          await c.get({ classId: 15, instanceId: parseObis("0.0.40.0.0.255"), attributeId: 2 }),
        );
        expect(list.map((e) => e.obis)).toContain("0.0.43.1.0.255");
        await c.release();
        // On the wire: every GET is glo-ciphered with the policy's security control byte, the trace says what it
        // deciphered, and with encryption the plain GET request bytes never appear.
        const sc = { auth: "10", enc: "20", "auth-enc": "30" }[policy];
        const gets = frames.filter((f) => f.dir === "tx" && f.summary.includes("glo-get-request"));
        expect(gets.length).toBeGreaterThanOrEqual(2);
        expect(frames.some((f) => f.dir === "rx" && /glo-get-response .*IC=\d+ \[GET\.res/.test(f.summary))).toBe(true);
        expect(frames.some((f) => f.summary.includes("ACTION.req normal"))).toBe(true);
        for (const f of gets) expect(f.summary).toContain(`${policy} IC=`);
        const voltageLn = "0100200700FF";
        const plainVisible = gets.some((f) => f.hex.includes(voltageLn));
        expect(plainVisible).toBe(policy === "auth");
        expect(frames.some((f) => f.hex.includes(`C8`) && f.hex.includes(sc!))).toBe(true);
      });
    }
  }

  it("a meter granting general-protection gets general-glo-ciphering requests (with our system title)", async () => {
    const sim = await simulator({ hls: { authKey: AK, blockKey: EK, generalProtection: true } });
    const frames: { dir: string; summary: string; hex: string }[] = [];
    const c = client(sim.ports[0]!, {
      onFrame: (dir, bytes, summary) => frames.push({ dir, summary, hex: toHex(bytes, "") }),
    });
    const info = await c.connect();
    expect(info.conformanceNames).toContain("general-protection");
    await readRegisters(c, REGISTERS, new ScalerCache());
    await c.release();
    const sent = frames.filter((f) => f.dir === "tx" && f.summary.includes("general-glo-ciphering"));
    expect(sent.length).toBeGreaterThanOrEqual(2); // pass 3 and the GETs
    for (const f of sent) expect(f.hex).toContain(`DB08${toHex(CLIENT_TITLE, "")}`);
  });

  it("the public client reads the invocation counter object, which follows the management client's counter", async () => {
    const sim = await simulator();
    const ic = counter(500);
    const c = client(sim.ports[0]!, { auth: hls({ counter: ic }) });
    await c.connect();
    await c.get({ classId: 1, instanceId: parseObis("0.0.96.1.0.255"), attributeId: 2 });
    await c.release();
    const pub = client(sim.ports[0]!, {
      auth: { mechanism: "none" },
      link: { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } },
    });
    await pub.connect();
    const fc = await pub.get({ classId: 1, instanceId: parseObis("0.0.43.1.0.255"), attributeId: 2 });
    await pub.release();
    expect(fc).toEqual({ type: "double-long-unsigned", value: Math.max(...ic.used) + 1 });
  });
});

async function failure(sim: RunningSimulator, auth: HlsGmacSettings): Promise<SecurityFailureError> {
  const checks: string[] = [];
  const c = client(sim.ports[0]!, { auth, onSecurityFailure: (check) => checks.push(check) });
  const error = await c
    .connect()
    .then(async () => {
      await c.get({ classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 });
      return undefined;
    })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(SecurityFailureError);
  const e = error as SecurityFailureError;
  expect(checks).toEqual([e.check]);
  for (const secret of [AK, EK]) expect(e.message.toUpperCase()).not.toContain(toHex(secret, ""));
  return e;
}

describe("HLS-GMAC failures are distinct and name the step", () => {
  it("wrong authentication key: aarq / authentication-key", async () => {
    const e = await failure(await simulator(), hls({ keys: { ek: EK, ak: fromHex("00".repeat(16)) } }));
    expect([e.step, e.check]).toEqual(["aarq", "authentication-key"]);
    expect(e.message).toMatch(/authentication key/);
  });
  it("wrong block key: aarq / block-key", async () => {
    const e = await failure(await simulator(), hls({ keys: { ek: fromHex("11".repeat(16)), ak: AK } }));
    expect([e.step, e.check]).toEqual(["aarq", "block-key"]);
    expect(e.message).toMatch(/block key/);
  });
  it("wrong authentication key with encryption-only APDUs: only HLS pass 3 can tell, and does", async () => {
    const e = await failure(await simulator(), hls({ policy: "enc", keys: { ek: EK, ak: fromHex("00".repeat(16)) } }));
    expect([e.step, e.check]).toEqual(["hls", "hls-pass-3"]);
  });
  it("wrong (pinned) meter system title: aarq / system-title", async () => {
    const sim = await simulator({ hls: { authKey: AK, blockKey: EK, systemTitle: fromHex("4D4D4D0000BC614E") } });
    const e = await failure(sim, hls({ serverSystemTitle: fromHex("4D4D4D0000BC614F") }));
    expect([e.step, e.check]).toEqual(["aarq", "system-title"]);
    expect(e.message).toContain("4D4D4D0000BC614E");
  });
  it("tampered tag in the meter's replies: get / tag-mismatch", async () => {
    const e = await failure(await simulator({ hls: { authKey: AK, blockKey: EK, badTag: true } }), hls());
    expect([e.step, e.check]).toEqual(["get", "tag-mismatch"]);
    expect(e.message).toMatch(/glo-get-response: authentication tag does not verify/);
  });
  it("replayed meter counter: get / replayed-counter", async () => {
    const e = await failure(await simulator({ hls: { authKey: AK, blockKey: EK, replayCounter: true } }), hls());
    expect([e.step, e.check]).toEqual(["get", "replayed-counter"]);
  });
  it("our counter behind the meter's: aarq / invocation-counter, and the next association succeeds", async () => {
    const sim = await simulator();
    const firstCounter = counter(1000);
    const first = client(sim.ports[0]!, { auth: hls({ counter: firstCounter }) });
    await first.connect();
    await first.release();
    const behind = counter(10);
    const e = await failure(sim, hls({ counter: behind }));
    const expected = Math.max(...firstCounter.used) + 1;
    expect([e.step, e.check, e.expectedCounter]).toEqual(["aarq", "invocation-counter", expected]);
    const again = client(sim.ports[0]!, { auth: hls({ counter: behind }) });
    await again.connect();
    expect(Math.min(...behind.used.slice(1))).toBeGreaterThanOrEqual(expected);
    await again.release();
  });
});
