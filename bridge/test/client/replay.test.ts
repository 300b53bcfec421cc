// The client against captured conversations with a reference server (Gurux C server), replayed over the
// in-memory transport and over real TCP: values decoded end to end, errors named as an operator needs them.
import { afterEach, describe, expect, it } from "vitest";
import { DlmsClient } from "../../src/client/client.js";
import { AssociationRejectedError, TimeoutError } from "../../src/client/errors.js";
import { readRegisters } from "../../src/client/reads.js";
import type { DlmsClientOptions, LinkSettings } from "../../src/client/types.js";
import { decodeObjectList } from "../../src/dlms/cosem/association-ln.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { DataAccessError } from "../../src/dlms/errors.js";
import { decodeFrame } from "../../src/dlms/hdlc/frame.js";
import { createMemoryPair } from "../../src/transport/memory.js";
import { TcpTransport } from "../../src/transport/tcp.js";
import { loadVectorFrames } from "../dlms/vectors.js";
import { ReplayServer } from "./replay-server.js";

const REGISTER = "1.1.21.25.0.255";
const LDN = "0.0.42.0.0.255";
const hdlc = (clientAddress: number): LinkSettings => ({ kind: "hdlc", clientAddress, serverAddress: { logical: 1 } });

const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

function replayOverMemory(file: string, options: Omit<DlmsClientOptions, "transport">) {
  const replay = new ReplayServer(file);
  const [clientEnd, serverEnd] = createMemoryPair();
  replay.attach(serverEnd);
  const client = new DlmsClient({ transport: clientEnd, ...options });
  closers.push(() => client.close());
  return { replay, client, wire: clientEnd.written };
}

async function replayOverTcp(file: string, options: Omit<DlmsClientOptions, "transport">) {
  const replay = new ReplayServer(file);
  const { port, server } = await replay.listen();
  closers.push(() => server.close());
  const transport = new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 2000 });
  const client = new DlmsClient({ transport, ...options });
  closers.push(() => client.close());
  return { replay, client };
}

describe("DlmsClient replaying u9n_hdlc_none (HDLC, no authentication)", () => {
  it("associates, reads register 12 with scaler -2 as 0.12 Wh and the logical device name, releases", async () => {
    const { replay, client } = replayOverMemory("u9n_hdlc_none.txt", {
      link: hdlc(16),
      auth: { mechanism: "none" },
      timeoutMs: 1000,
    });
    const info = await client.connect();
    expect(info.serverMaxReceivePduSize).toBe(512);
    expect(info.conformanceNames).toEqual(["get", "set"]);
    expect(info.multipleReferences).toBe(false);
    expect(info.hdlc).toEqual({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });

    const values = await readRegisters(client, [
      { key: "energy", obis: REGISTER, classId: 3, attributeId: 2 },
      { key: "ldn", obis: LDN, classId: 1, attributeId: 2 },
    ]);
    // The logical device name is not numeric: readRegisters reports it, the register is scaled exactly.
    expect(values.energy).toMatchObject({ value: 0.12, unit: "Wh", scaler: -2 });
    expect(values.ldn).toMatchObject({ reason: "not-numeric" });

    await client.release();
    expect(client.connected).toBe(false);
    expect(replay.unmatched).toEqual([]);
    expect(replay.skipped).toBe(0);
    // SNRM, AARQ, 3 GETs, RLRQ, DISC: every captured exchange was used.
    expect(replay.received).toHaveLength(7);
  });

  it("does the same over real TCP and returns the logical device name as an octet-string", async () => {
    const { client } = await replayOverTcp("u9n_hdlc_none.txt", {
      link: hdlc(16),
      auth: { mechanism: "none" },
      timeoutMs: 1000,
    });
    await client.connect();
    const value = await client.get({ classId: 3, instanceId: parseObis(REGISTER), attributeId: 2 });
    expect(value).toEqual({ type: "long-unsigned", value: 12 });
    const scaler = await client.get({ classId: 3, instanceId: parseObis(REGISTER), attributeId: 3 });
    expect(scaler).toEqual({
      type: "structure",
      value: [
        { type: "integer", value: -2 },
        { type: "enum", value: 30 },
      ],
    });
    const ldn = await client.get({ classId: 1, instanceId: parseObis(LDN), attributeId: 2 });
    expect(ldn.type).toBe("octet-string");
    expect(new TextDecoder().decode((ldn as { value: Uint8Array }).value)).toBe("GRX0000000123456");
    await client.release();
  });
});

describe("DlmsClient replaying failures", () => {
  it("LLS with the right password associates (and negotiates multiple-references)", async () => {
    const { client, wire } = replayOverMemory("u9n_hdlc_low.txt", {
      link: hdlc(17),
      auth: { mechanism: "low", password: "Gurux" },
      timeoutMs: 1000,
    });
    const info = await client.connect();
    expect(info.multipleReferences).toBe(true);
    // The AARQ on the wire carries mechanism-name LLS and the password as calling-authentication-value.
    const aarq = wire[1]!;
    expect(Buffer.from(aarq).includes(Buffer.from([0x8b, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x01]))).toBe(true);
    expect(Buffer.from(aarq).includes(Buffer.from([0xac, 0x07, 0x80, 0x05, ...Buffer.from("Gurux")]))).toBe(true);
    client.close();
  });

  it("a wrong password fails with AssociationRejectedError authentication-failure", async () => {
    const { client } = replayOverMemory("u9n_hdlc_badpassword.txt", {
      link: hdlc(17),
      auth: { mechanism: "low", password: "WRONG" },
      timeoutMs: 300,
    });
    const error = await client.connect().catch((e) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect(error).toMatchObject({ step: "aarq", diagnostic: "authentication-failure", diagnosticCode: 13 });
    expect(error.message).not.toContain("WRONG");
    expect(client.connected).toBe(false);
  });

  it("an object the meter lacks rejects with DataAccessError read-write-denied; the next read still works", async () => {
    const { client } = replayOverMemory("u9n_hdlc_unknown_obis.txt", {
      link: hdlc(16),
      auth: { mechanism: "none" },
      timeoutMs: 1000,
    });
    await client.connect();
    const error = await client
      .get({ classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(DataAccessError);
    expect(error).toMatchObject({ code: 3, codeName: "read-write-denied" });
    expect(error.message).toContain("1.0.32.7.0.255");
    const value = await client.get({ classId: 3, instanceId: parseObis(REGISTER), attributeId: 2 });
    expect(value).toEqual({ type: "long-unsigned", value: 32 });
    await client.release();
  });

  it("silence after SNRM (wrong server address) is a TimeoutError on step snrm with the address hint", async () => {
    const { client } = await replayOverTcp("u9n_hdlc_bad_server_addr.txt", {
      link: { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1, physical: 17, size: 2 } },
      auth: { mechanism: "none" },
      timeoutMs: 150,
    });
    const started = Date.now();
    const error = await client.connect().catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.step).toBe("snrm");
    expect(error.message).toContain("no answer to SNRM: check the server/physical address and the client SAP");
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe("DlmsClient replaying gurux_hdlc_none (segmented HDLC + GET block transfer)", () => {
  it("polls each segment with RR, asks each block with GET-next and decodes the reassembled object list", async () => {
    const discarded: string[] = [];
    const { replay, client, wire } = replayOverMemory("gurux_hdlc_none.txt", {
      link: hdlc(16),
      auth: { mechanism: "none" },
      timeoutMs: 300,
      onDiscarded: (e) => discarded.push(e.message),
    });
    await client.connect();
    const objectList = await client.get({ classId: 15, instanceId: parseObis("0.0.40.0.0.255"), attributeId: 2 });
    const entries = decodeObjectList(objectList);
    expect(entries).toHaveLength(52); // the array header of the first block announces 0x34 objects
    expect(entries).toContainEqual(expect.objectContaining({ classId: 3, obis: REGISTER }));
    expect(entries).toContainEqual(expect.objectContaining({ classId: 8, obis: "0.0.1.0.0.255" }));

    const value = await client.get({ classId: 3, instanceId: parseObis(REGISTER), attributeId: 2 });
    expect(value).toEqual({ type: "long-unsigned", value: 9 });
    const scalerUnit = await client.get({ classId: 3, instanceId: parseObis(REGISTER), attributeId: 3 });
    expect(scalerUnit.type).toBe("structure");
    // This server appends a second copy of the clock to its reply: the value is kept, the garbage reported.
    const clock = await client.get({ classId: 8, instanceId: parseObis("0.0.1.0.0.255"), attributeId: 2 });
    expect(clock).toMatchObject({ type: "octet-string" });
    expect((clock as { value: Uint8Array }).value).toHaveLength(12);
    expect(discarded).toEqual(["18 trailing byte(s) after get-response ignored"]);
    await client.release();

    // Every captured exchange was replayed in order; only our RLRQ (which this capture lacks) went unanswered.
    expect(replay.unmatched).toEqual(["I:62"]);
    expect(replay.skipped).toBe(0);
    const captured = loadVectorFrames("gurux_hdlc_none.txt")
      .filter((f) => f.dir === "tx")
      .map((f) => f.bytes);
    const isGetNext = (frame: Uint8Array) => {
      const info = decodeFrame(frame).info;
      return info[3] === 0xc0 && info[4] === 0x02;
    };
    const isRr = (frame: Uint8Array) => decodeFrame(frame).type === "RR";
    expect(wire.filter(isRr)).toHaveLength(captured.filter(isRr).length);
    expect(wire.filter(isGetNext)).toHaveLength(captured.filter(isGetNext).length);
    expect(captured.filter(isGetNext).length).toBeGreaterThan(0);
  });
});

describe("DlmsClient replaying u9n_wrapper_none (TCP wrapper)", () => {
  it("associates without SNRM and reads the register with its scaler over TCP", async () => {
    const { replay, client } = await replayOverTcp("u9n_wrapper_none.txt", {
      link: { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } },
      auth: { mechanism: "none" },
      timeoutMs: 1000,
    });
    const info = await client.connect();
    expect(info.hdlc).toBeUndefined();
    const values = await readRegisters(client, [{ key: "energy", obis: REGISTER, classId: 3, attributeId: 2 }]);
    expect(values.energy).toMatchObject({ value: 0.14, unit: "Wh" });
    await client.release();
    expect(replay.unmatched).toEqual([]);
  });
});
