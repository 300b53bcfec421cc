// The simulator behaves as a meter in the ways our client's tests depend on: one association per client SAP on
// a wrapper connection, the current association's and the clock's attributes, HDLC parameters negotiated in the UA
// (min of both sides) so windows > 1 and large frames are exercised on the wire.
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_CLIENT_CONFORMANCE } from "../../src/dlms/apdu/conformance.js";
import { decodeApdu, encodeApdu } from "../../src/dlms/apdu/index.js";
import type { Aarq, Apdu, AttributeRequest } from "../../src/dlms/apdu/types.js";
import type { DlmsData } from "../../src/dlms/axdr/types.js";
import { decodeObjectList } from "../../src/dlms/cosem/association-ln.js";
import { decodeDateTime } from "../../src/dlms/cosem/datetime.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { DataAccessError } from "../../src/dlms/errors.js";
import { decodeFrame } from "../../src/dlms/hdlc/frame.js";
import { decodeWrapper, encodeWrapper } from "../../src/dlms/wrapper/header.js";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../../src/sim/server.js";
import { client, raw } from "./helpers.js";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const attr = (obis: string, attributeId: number, classId: number): AttributeRequest => ({
  classId,
  instanceId: parseObis(obis),
  attributeId,
});
const assoc = (attributeId: number) => attr("0.0.40.0.0.255", attributeId, 15);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  sim = await startSimulator({ port: 0, now: () => T0, ...options });
  return sim;
}

function aarq(mechanism: "none" | "low", password?: string): Aarq {
  return {
    tag: "aarq",
    applicationContext: "ln",
    ...(mechanism === "low" ? { mechanism, authenticationValue: new TextEncoder().encode(password) } : {}),
    userInformation: {
      tag: "initiate-request",
      responseAllowed: true,
      proposedDlmsVersion: 6,
      proposedConformance: DEFAULT_CLIENT_CONFORMANCE,
      clientMaxReceivePduSize: 1024,
    },
  };
}

const getSerial = (invokeId: number): Apdu => ({
  tag: "get-request",
  kind: "normal",
  invoke: { invokeId, confirmed: true, highPriority: true },
  attribute: attr("0.0.96.1.0.255", 2, 1),
});

describe("simulator over the wrapper: one association per client wPort on a connection", () => {
  it("judges each AARQ and each GET by the wPort that sent it", async () => {
    const s = await start({ transport: "wrapper", auth: "low", password: "pw" });
    const conn = await raw(s.ports[0]!);
    /** Sends one APDU from `wPort` and returns the answer with the wPort it was addressed to. */
    const exchange = async (wPort: number, apdu: Apdu) => {
      const seen = conn.received().length;
      conn.socket.write(encodeWrapper(wPort, 1, encodeApdu(apdu)));
      const all = await conn.waitForBytes(seen + 8);
      const length = (all[seen + 6]! << 8) | all[seen + 7]!;
      const pdu = decodeWrapper((await conn.waitForBytes(seen + 8 + length)).subarray(seen, seen + 8 + length));
      return { to: pdu.dstWPort, apdu: decodeApdu(pdu.payload) };
    };

    expect(await exchange(16, aarq("none"))).toMatchObject({ to: 16, apdu: { tag: "aare", result: "accepted" } });
    // wPort 1 never associated: no data for it although wPort 16 is associated on this connection.
    expect((await exchange(1, getSerial(1))).apdu.tag).toBe("exception-response");
    // A correct LLS AARQ from wPort 1 is judged by wPort 1's rules, not by those of wPort 16 that spoke first.
    expect(await exchange(1, aarq("low", "pw"))).toMatchObject({ to: 1, apdu: { tag: "aare", result: "accepted" } });
    const reply = await exchange(1, getSerial(2));
    expect(reply).toMatchObject({ to: 1, apdu: { tag: "get-response", result: { ok: true } } });
    // wPort 16 keeps its own association meanwhile; releasing it leaves wPort 1's intact.
    expect((await exchange(16, getSerial(3))).apdu).toMatchObject({ tag: "get-response", result: { ok: true } });
    expect((await exchange(16, { tag: "rlrq", reason: 0 })).apdu.tag).toBe("rlre");
    expect((await exchange(16, getSerial(4))).apdu.tag).toBe("exception-response");
    expect((await exchange(1, getSerial(5))).apdu).toMatchObject({ tag: "get-response", result: { ok: true } });
    expect(s.meters[0]!.stats.associations).toBe(2);
    conn.socket.destroy();
  });
});

describe("simulator: current association and clock attributes", () => {
  it("serves Association LN attributes 4-6, 8 and 9, lists the secret (7) without access and never reveals it", async () => {
    const s = await start({ auth: "low", password: "pw", maxPduSize: 768 });
    const lls = client(
      s.ports[0]!,
      { kind: "hdlc", clientAddress: 1, serverAddress: { logical: 1 } },
      {
        mechanism: "low",
        password: "pw",
      },
      { maxReceivePduSize: 900 },
    );
    const info = await lls.connect();
    const [context, mechanism, status, security] = await lls.getMany([assoc(5), assoc(6), assoc(8), assoc(9)]);
    // application_context_name: LN referencing, no ciphering (2.16.756.5.8.1.1 as BER value bytes).
    expect(hex(((await lls.get(assoc(4))) as { value: Uint8Array }).value)).toBe("608574050801" + "01");
    // authentication_mechanism_name: low (…2.1).
    expect(mechanism).toMatchObject({ ok: true });
    expect(hex((mechanism as { data: { value: Uint8Array } }).data.value)).toBe("60857405080201");
    // xDLMS_context_info reports what this association negotiated.
    const fields = (context as { ok: true; data: { value: DlmsData[] } }).data.value;
    const bits = (fields[0] as { type: "bit-string"; value: boolean[] }).value;
    expect(bits).toHaveLength(24);
    const mask = bits.reduce((m, bit, n) => (bit ? m | (1 << (23 - n)) : m), 0);
    expect(mask).toBe(info.negotiatedConformance);
    expect(fields.slice(1)).toEqual([
      { type: "long-unsigned", value: 768 },
      { type: "long-unsigned", value: 900 },
      { type: "unsigned", value: 6 },
      { type: "integer", value: 0 },
      { type: "octet-string", value: new Uint8Array(0) },
    ]);
    expect(status).toEqual({ ok: true, data: { type: "enum", value: 2 } });
    expect(security).toEqual({ ok: true, data: { type: "octet-string", value: Uint8Array.of(0, 0, 43, 0, 0, 255) } });
    const secret = await lls.get(assoc(7)).catch((e: unknown) => e);
    expect(secret).toBeInstanceOf(DataAccessError);

    const list = decodeObjectList(await lls.get(assoc(2)));
    const self = list.find((e) => e.obis === "0.0.40.0.0.255")!;
    expect(self.attributes.map((a) => [a.id, a.access])).toEqual([
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 1],
      [6, 1],
      [7, 0],
      [8, 1],
      [9, 1],
    ]);
    await lls.release();

    // The public client's association names mechanism "none" (…2.0).
    const pub = client(s.ports[0]!);
    await pub.connect();
    expect(hex(((await pub.get(assoc(6))) as { value: Uint8Array }).value)).toBe("60857405080200");
    await pub.release();
  });

  it("serves every attribute the object list says is readable, incl. the clock's daylight-saving attributes", async () => {
    const s = await start();
    const c = client(s.ports[0]!, undefined, undefined, { maxReceivePduSize: 0xffff });
    await c.connect();
    const list = decodeObjectList(await c.get(assoc(2)));
    const readable = list.flatMap((e) =>
      e.attributes.filter((a) => a.access === 1).map((a) => attr(e.obis, a.id, e.classId)),
    );
    const results = await c.getMany(readable);
    const failed = readable.filter((_, i) => !results[i]!.ok).map((a) => `${a.classId}/${a.attributeId}`);
    expect(failed).toEqual([]);

    const clock = (id: number) => attr("0.0.1.0.0.255", id, 8);
    const clockIds = list.find((e) => e.obis === "0.0.1.0.0.255")!.attributes.map((a) => a.id);
    expect(clockIds).toEqual(expect.arrayContaining([5, 6, 7]));
    const begin = (await c.get(clock(5))) as { type: string; value: Uint8Array };
    const end = (await c.get(clock(6))) as { type: string; value: Uint8Array };
    // Recurring: any year, the Sunday on or after 25 March 02:00 / 25 October 03:00 (the EU rule).
    expect(decodeDateTime(begin.value)).toMatchObject({ month: 3, day: 25, dayOfWeek: 7, hour: 2 });
    expect(decodeDateTime(begin.value).year).toBeUndefined();
    expect(decodeDateTime(end.value)).toMatchObject({ month: 10, day: 25, dayOfWeek: 7, hour: 3 });
    // Without the dst option the clock keeps standard time: no deviation, DST disabled.
    expect(await c.get(clock(7))).toEqual({ type: "integer", value: 0 });
    expect(await c.get(clock(8))).toEqual({ type: "boolean", value: false });
    await c.release();
  });

  it("with EU daylight saving, the clock reports a 60-minute deviation and DST enabled", async () => {
    const s = await start({ dst: "eu" });
    const c = client(s.ports[0]!);
    await c.connect();
    const [deviation, enabled] = await c.getMany([attr("0.0.1.0.0.255", 7, 8), attr("0.0.1.0.0.255", 8, 8)]);
    expect(deviation).toEqual({ ok: true, data: { type: "integer", value: 60 } });
    expect(enabled).toEqual({ ok: true, data: { type: "boolean", value: true } });
    await c.release();
  });
});

describe("simulator: HDLC parameters negotiated in the UA", () => {
  /** Every frame on the wire, decoded, in both directions. */
  function traced(port: number, maxInfo: number, window: number, maxReceivePduSize = 0xffff) {
    const frames: { dir: "tx" | "rx"; type: string; info: number; pf: boolean; segmented: boolean }[] = [];
    const c = client(
      port,
      { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 }, maxInfo, window },
      undefined,
      {
        maxReceivePduSize,
        onFrame: (dir, bytes) => {
          const f = decodeFrame(bytes);
          frames.push({ dir, type: f.type, info: f.info.length, pf: f.pf, segmented: f.format.segmented });
        },
      },
    );
    return { c, frames };
  }

  it("offers the smaller of the meter's maxima and the client's proposal", async () => {
    const s = await start({ hdlcMaxInfo: 256, hdlcWindow: 3 });
    const big = traced(s.ports[0]!, 1024, 7);
    expect((await big.c.connect()).hdlc).toEqual({ maxInfoTx: 256, maxInfoRx: 256, windowTx: 3, windowRx: 3 });
    await big.c.release();
    const small = traced(s.ports[0]!, 64, 2);
    expect((await small.c.connect()).hdlc).toEqual({ maxInfoTx: 64, maxInfoRx: 64, windowTx: 2, windowRx: 2 });
    await small.c.release();
  });

  it("sends a long reply in windows of N frames, the client acknowledging each window once", async () => {
    const s = await start({ hdlcMaxInfo: 256, hdlcWindow: 3, profileRows: 96 });
    const { c, frames } = traced(s.ports[0]!, 256, 3);
    await c.connect();
    const before = frames.length;
    const buffer = (await c.get(attr("1.0.99.1.0.255", 2, 7))) as { value: DlmsData[] };
    expect(buffer.value).toHaveLength(96);
    const during = frames.slice(before);
    const iFrames = during.filter((f) => f.dir === "rx" && f.type === "I");
    const rrs = during.filter((f) => f.dir === "tx" && f.type === "RR");
    expect(iFrames.length).toBeGreaterThan(9);
    expect(Math.max(...iFrames.map((f) => f.info))).toBe(256);
    // P/F only on every third frame and on the last: the client polls once per window, not once per frame.
    expect(iFrames.map((f) => f.pf)).toEqual(iFrames.map((_, i) => (i + 1) % 3 === 0 || i === iFrames.length - 1));
    expect(rrs).toHaveLength(Math.ceil(iFrames.length / 3) - 1);
    await c.release();
  });

  it("the client sends a request longer than one frame in windows too", async () => {
    const s = await start({ hdlcMaxInfo: 32, hdlcWindow: 2 });
    const { c, frames } = traced(s.ports[0]!, 32, 2);
    await c.connect();
    const before = frames.length;
    const registers = ["1.0.32.7.0.255", "1.0.52.7.0.255", "1.0.72.7.0.255", "1.0.31.7.0.255", "1.0.14.7.0.255"];
    const results = await c.getMany(registers.flatMap((o) => [attr(o, 2, 3), attr(o, 3, 3)]));
    expect(results.every((r) => r.ok)).toBe(true);
    const sent = frames.slice(before).filter((f) => f.dir === "tx" && f.type === "I");
    expect(sent.length).toBeGreaterThanOrEqual(3);
    expect(sent.map((f) => f.pf)).toEqual(sent.map((_, i) => (i + 1) % 2 === 0 || i === sent.length - 1));
    await c.release();
  });

  it("a bare SNRM gets the default 128 bytes / window 1 whatever the meter supports", async () => {
    const s = await start({ hdlcMaxInfo: 2030, hdlcWindow: 7 });
    const c = client(s.ports[0]!);
    expect((await c.connect()).hdlc).toEqual({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
    await c.release();
  });
});
