// Each fault the simulator injects, observed from the client side of the wire.
import { afterEach, describe, expect, it } from "vitest";
import { AssociationRejectedError, ConnectionClosedError } from "../../src/client/errors.js";
import { decodeApdu, encodeApdu } from "../../src/dlms/apdu/index.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { HdlcLink } from "../../src/dlms/hdlc/link.js";
import type { LinkEvent } from "../../src/dlms/link.js";
import { encodeWrapper } from "../../src/dlms/wrapper/header.js";
import { WrapperLink } from "../../src/dlms/wrapper/link.js";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../../src/sim/server.js";
import { client, raw, sleep } from "./helpers.js";

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  sim = await startSimulator({ port: 0, ...options });
  return sim;
}

const voltage = { classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 };

function hdlcClient(physical?: number): HdlcLink {
  return new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1, physical } });
}

/** Sends an SNRM on a raw socket; returns the connection and the SNRM bytes. */
async function sendSnrm(port: number, physical?: number) {
  const link = hdlcClient(physical);
  link.connect();
  const snrm = link.takeOutgoing()[0]!;
  const conn = await raw(port);
  conn.socket.write(snrm);
  return { link, conn, snrm };
}

function events(link: { nextEvent(): LinkEvent | null }): LinkEvent[] {
  const out: LinkEvent[] = [];
  for (let e = link.nextEvent(); e; e = link.nextEvent()) out.push(e);
  return out;
}

describe("fault injection, seen from the client", () => {
  it("delays every answer by delayMs", async () => {
    const s = await start({ delayMs: 250 });
    const c = client(s.ports[0]!);
    const started = performance.now();
    await c.connect(); // SNRM/UA and AARQ/AARE: two delayed answers
    const connectMs = performance.now() - started;
    const before = performance.now();
    await c.get(voltage);
    const getMs = performance.now() - before;
    expect(connectMs).toBeGreaterThanOrEqual(2 * 240);
    expect(getMs).toBeGreaterThanOrEqual(240);
    expect(getMs).toBeLessThan(1200);
    await c.release();
  });

  it("holds back only the last frame of a segmented HDLC reply", async () => {
    const s = await start({ lastFrameDelayMs: 400, hdlcMaxInfo: 64 });
    const rx: number[] = [];
    const c = client(
      s.ports[0]!,
      { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 }, maxInfo: 64 },
      undefined,
      {
        onFrame: (direction) => direction === "rx" && rx.push(performance.now()),
      },
    );
    await c.connect();
    const started = performance.now();
    await c.get(voltage); // one frame: not delayed
    expect(performance.now() - started).toBeLessThan(300);
    rx.length = 0;
    await c.get({ classId: 15, instanceId: parseObis("0.0.40.0.0.255"), attributeId: 2 }); // several segments
    const gaps = rx.slice(1).map((t, i) => t - rx[i]!);
    expect(gaps.length).toBeGreaterThan(1);
    expect(gaps.filter((g) => g >= 380)).toHaveLength(1);
    expect(gaps.at(-1)).toBeGreaterThanOrEqual(380);
    await c.release();
  });

  it("stays silent: no byte comes back to an SNRM", async () => {
    const s = await start({ silence: true });
    const { conn } = await sendSnrm(s.ports[0]!);
    await sleep(300);
    expect(conn.received()).toHaveLength(0);
    expect(s.meters[0]!.stats.framesIn).toBe(1);
    conn.socket.destroy();
  });

  it("answers only every Nth request", async () => {
    const s = await start({ answerEvery: 2 });
    const { conn, snrm } = await sendSnrm(s.ports[0]!);
    await sleep(200);
    expect(conn.received()).toHaveLength(0); // request 1: silence
    conn.socket.write(snrm);
    const ua = await conn.waitForBytes(1); // request 2: answered
    expect(ua[0]).toBe(0x7e);
    conn.socket.destroy();
  });

  it("corrupts the FCS of every Nth frame: the client link discards it with bad-fcs", async () => {
    const s = await start({ corruptFcsEvery: 1 });
    const { link, conn } = await sendSnrm(s.ports[0]!);
    const bytes = await conn.waitForBytes(10);
    await sleep(50);
    link.receiveData(bytes);
    const seen = events(link);
    expect(seen.some((e) => e.type === "discarded" && e.error.message.toLowerCase().includes("fcs"))).toBe(true);
    expect(seen.some((e) => e.type === "connected")).toBe(false);
    conn.socket.destroy();
  });

  it("corrupts wrapper PDUs so the client link discards them", async () => {
    const s = await start({ transport: "wrapper", corruptFcsEvery: 1 });
    const c = new WrapperLink({ role: "client", clientWPort: 16, serverWPort: 1 });
    c.connect();
    const conn = await raw(s.ports[0]!);
    // A GET before association: the meter answers with an exception response, which arrives corrupted.
    conn.socket.write(
      encodeWrapper(16, 1, Uint8Array.of(0xc0, 0x01, 0xc1, 0x00, 0x03, 1, 0, 32, 7, 0, 255, 0x02, 0x00)),
    );
    c.receiveData(await conn.waitForBytes(8));
    expect(events(c).map((e) => e.type)).toContain("discarded");
    conn.socket.destroy();
  });

  it("drops the connection mid-frame: a partial frame, then the socket closes", async () => {
    const s = await start({ dropMidFrameAfter: 0 });
    const { link, conn } = await sendSnrm(s.ports[0]!);
    await conn.closed;
    const bytes = conn.received();
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes[0]).toBe(0x7e);
    const frameLength = ((bytes[1]! & 0x07) << 8) | bytes[2]!; // format field: 11-bit length without flags
    expect(bytes.length).toBeLessThan(frameLength + 2);
    link.receiveData(bytes);
    expect(events(link).some((e) => e.type === "connected")).toBe(false);
  });

  it("lets the client associate and then drops mid-frame after N answers", async () => {
    const s = await start({ dropMidFrameAfter: 2 }); // UA and AARE go out whole
    const c = client(s.ports[0]!);
    await c.connect();
    await expect(c.get(voltage)).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it("appends junk after GET responses: the client still reads the value and reports the junk", async () => {
    const s = await start({ trailingGarbage: true });
    const discarded: string[] = [];
    const c = client(s.ports[0]!, undefined, undefined, { onDiscarded: (e) => discarded.push(e.message) });
    await c.connect();
    expect((await c.get(voltage)).type).toBe("long-unsigned");
    expect(discarded.some((m) => m.includes("2 trailing byte(s)"))).toBe(true);
    await c.release();
  });

  it("ignores RLRQ: the client's release still ends with DISC and frees the meter", async () => {
    const s = await start({ ignoreRelease: true });
    const c = client(s.ports[0]!, undefined, undefined, { timeoutMs: 400 });
    await c.connect();
    await c.release(); // RLRQ times out, DISC/UA ends the link
    await sleep(50);
    expect(s.meters[0]!.busyWith).toBeUndefined();
    const next = client(s.ports[0]!);
    await next.connect();
    next.close();
  });

  it("refuses the association with AARE rejected-permanent", async () => {
    const s = await start({ refuseAssociation: true });
    const error = await client(s.ports[0]!)
      .connect()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect((error as AssociationRejectedError).result).toBe("rejected-permanent");
  });
});

describe("one association at a time, and the inactivity timeout", () => {
  it("answers a second connection to a busy meter with DM and closes it, leaving the first one working", async () => {
    const s = await start();
    const first = client(s.ports[0]!);
    await first.connect();
    const { link, conn } = await sendSnrm(s.ports[0]!);
    await conn.closed;
    link.receiveData(conn.received());
    expect(events(link)).toContainEqual({ type: "disconnected", reason: "dm" });
    expect(s.meters[0]!.stats.busyRefusals).toBe(1);
    expect((await first.get(voltage)).type).toBe("long-unsigned");
    await first.release();
  });

  it("frees the meter when the holder disconnects", async () => {
    const s = await start();
    const first = client(s.ports[0]!);
    await first.connect();
    await first.release();
    await sleep(50);
    const second = client(s.ports[0]!);
    await second.connect();
    await second.release();
  });

  it("with holdAfterClose, keeps a meter busy after its client vanished, until a DISC or the inactivity timeout", async () => {
    const s = await start({ holdAfterClose: true, inactivityTimeoutSeconds: 1 });
    const vanished = client(s.ports[0]!);
    await vanished.connect();
    vanished.close(); // TCP closed without RLRQ/DISC
    await sleep(50);
    await expect(client(s.ports[0]!).connect()).rejects.toThrow();
    const polite = client(s.ports[0]!, undefined, undefined, { discFirst: true });
    await polite.connect(); // its DISC frees the meter
    await polite.release();

    const vanishedAgain = client(s.ports[0]!);
    await vanishedAgain.connect();
    vanishedAgain.close();
    await sleep(1200); // the inactivity timeout frees it without a DISC
    const later = client(s.ports[0]!);
    await later.connect();
    await later.release();
  });

  it("drops an idle connection after the inactivity timeout", async () => {
    const s = await start({ inactivityTimeoutSeconds: 1 });
    const { conn } = await sendSnrm(s.ports[0]!);
    await conn.waitForBytes(1);
    const started = performance.now();
    await conn.closed;
    expect(performance.now() - started).toBeGreaterThan(700);
    await sleep(50); // the server side sees its own close a moment later
    expect(s.meters[0]!.busyWith).toBeUndefined();
  });

  it.each([
    ["exception", true],
    ["silence", false],
  ] as const)("answers a GET before the AARQ per beforeAssociation=%s", async (beforeAssociation, answers) => {
    const s = await start({ beforeAssociation });
    const { link, conn } = await sendSnrm(s.ports[0]!);
    link.receiveData(await conn.waitForBytes(1));
    expect(events(link).map((e) => e.type)).toContain("connected");
    const seen = conn.received().length;
    link.sendApdu(
      encodeApdu({
        tag: "get-request",
        kind: "normal",
        invoke: { invokeId: 1, confirmed: true, highPriority: true },
        attribute: voltage,
      }),
    );
    for (const frame of link.takeOutgoing()) conn.socket.write(frame);
    await sleep(200);
    const reply = conn.received().subarray(seen);
    expect(reply.length > 0).toBe(answers);
    if (answers) {
      link.receiveData(reply);
      const apdu = events(link).find((e) => e.type === "apdu");
      expect(apdu?.type === "apdu" && decodeApdu(apdu.apdu)).toMatchObject({
        tag: "exception-response",
        stateError: 1,
      });
    }
    conn.socket.destroy();
  });

  it("ignores a frame addressed to another server address (silence, as on a bus)", async () => {
    const s = await start();
    const { conn } = await sendSnrm(s.ports[0]!, 999);
    await sleep(200);
    expect(conn.received()).toHaveLength(0);
    conn.socket.destroy();
  });
});
