import { afterEach, describe, expect, it } from "vitest";
import { AssociationRejectedError } from "../../src/client/errors.js";
import { DEFAULT_CLIENT_CONFORMANCE } from "../../src/dlms/apdu/conformance.js";
import { decodeApdu, encodeApdu } from "../../src/dlms/apdu/index.js";
import type { Aarq, AttributeRequest } from "../../src/dlms/apdu/types.js";
import type { DlmsData } from "../../src/dlms/axdr/types.js";
import { decodeObjectList } from "../../src/dlms/cosem/association-ln.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { decodeScalerUnit, scaledValue } from "../../src/dlms/cosem/scaler.js";
import { HdlcLink } from "../../src/dlms/hdlc/link.js";
import type { LinkEvent } from "../../src/dlms/link.js";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../../src/sim/server.js";
import { client, raw } from "./helpers.js";

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
const attr = (obis: string, attributeId = 2, classId = 3): AttributeRequest => ({
  classId,
  instanceId: parseObis(obis),
  attributeId,
});

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function start(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  sim = await startSimulator({ port: 0, now: () => T0, ...options });
  return sim;
}

async function readVoltage(c: ReturnType<typeof client>): Promise<number> {
  const scalerUnit = decodeScalerUnit(await c.get(attr("1.0.32.7.0.255", 3)));
  expect(scalerUnit.unit).toBe(35);
  return scaledValue(await c.get(attr("1.0.32.7.0.255")), scalerUnit)!;
}

describe("simulator over TCP with DlmsClient", () => {
  it("serves L1 voltage with its scaler over HDLC, the same value the model computes", async () => {
    const s = await start();
    const c = client(s.ports[0]!);
    const info = await c.connect();
    expect(info.multipleReferences).toBe(true);
    const volts = await readVoltage(c);
    expect(volts).toBeCloseTo(s.meters[0]!.model.physics.read(T0).phases[0].voltage, 1);
    await c.release();
    expect(s.meters[0]!.stats.associations).toBe(1);
  });

  it("serves the same over the wrapper", async () => {
    const s = await start({ transport: "wrapper" });
    const c = client(s.ports[0]!, { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } });
    await c.connect();
    expect(await readVoltage(c)).toBeGreaterThan(215);
    await c.release();
  });

  it("sends the object list with block transfer over segmented HDLC frames", async () => {
    const s = await start();
    const c = client(s.ports[0]!, undefined, undefined, { maxReceivePduSize: 128 });
    await c.connect();
    const list = decodeObjectList(await c.get(attr("0.0.40.0.0.255", 2, 15)));
    expect(list.map((e) => e.obis)).toEqual(
      expect.arrayContaining(["0.0.40.0.0.255", "1.0.32.7.0.255", "1.0.99.1.0.255"]),
    );
    expect(list).toHaveLength(s.meters[0]!.model.list().length + 1);
    await c.release();
  });

  it("reads a one-day load profile (a multi-block reply) with every row", async () => {
    const s = await start({ profileRows: 96 });
    const c = client(s.ports[0]!);
    await c.connect();
    const buffer = (await c.get(attr("1.0.99.1.0.255", 2, 7))) as { value: DlmsData[] };
    expect(buffer.value).toHaveLength(96);
    await c.release();
  });

  it("answers GET-with-list, and falls back to single GETs with multiple references disabled", async () => {
    for (const multipleReferences of [true, false]) {
      const s = await start({ multipleReferences });
      const c = client(s.ports[0]!);
      const info = await c.connect();
      expect(info.multipleReferences).toBe(multipleReferences);
      const results = await c.getMany([attr("1.0.14.7.0.255"), attr("1.0.99.99.0.255"), attr("0.0.96.1.0.255", 2, 1)]);
      expect(results.map((r) => r.ok)).toEqual([true, false, true]);
      expect(results[1]).toEqual({ ok: false, error: 4 });
      await c.release();
      await s.close();
    }
  });

  it("grants GET-with-list to the LLS client only with multipleReferences authenticated-only", async () => {
    const s = await start({ count: 2, multipleReferences: "authenticated-only", auth: "low", password: "pw" });
    const publicClient = client(s.ports[0]!);
    expect((await publicClient.connect()).multipleReferences).toBe(false);
    const llsLink = { kind: "hdlc", clientAddress: 1, serverAddress: { logical: 1 } } as const;
    const lls = client(s.ports[1]!, llsLink, { mechanism: "low", password: "pw" });
    expect((await lls.connect()).multipleReferences).toBe(true);
    await Promise.all([publicClient.release(), lls.release()]);
  });

  it("accepts LLS with the password on SAP 1 and rejects a wrong one (authentication-failure)", async () => {
    const s = await start({ auth: "low", password: "S3cret!" });
    const link = { kind: "hdlc", clientAddress: 1, serverAddress: { logical: 1 } } as const;
    const good = client(s.ports[0]!, link, { mechanism: "low", password: "S3cret!" });
    await good.connect();
    expect(await readVoltage(good)).toBeGreaterThan(200);
    await good.release();
    const bad = client(s.ports[0]!, link, { mechanism: "low", password: "wrong" });
    const error = await bad.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect((error as AssociationRejectedError).diagnosticCode).toBe(13);
    bad.close();
  });

  it("puts N meters on consecutive ports, each with its own serial number and readings", async () => {
    const s = await start({ count: 3 });
    expect(s.ports).toHaveLength(3);
    const serials: string[] = [];
    for (const port of s.ports) {
      const c = client(port);
      await c.connect();
      const serial = (await c.get(attr("0.0.96.1.0.255", 2, 1))) as { value: Uint8Array };
      serials.push(new TextDecoder().decode(serial.value));
      await c.release();
    }
    expect(serials).toEqual(["10000001", "10000002", "10000003"]);
  });

  it("serves many meters on one port, chosen by HDLC physical address", async () => {
    const s = await start({ count: 5, sharedPort: true });
    expect(s.ports).toHaveLength(1);
    for (const index of [4, 0]) {
      const c = client(s.ports[0]!, {
        kind: "hdlc",
        clientAddress: 16,
        serverAddress: { logical: 1, physical: 16 + index },
      });
      await c.connect();
      const serial = (await c.get(attr("0.0.96.1.0.255", 2, 1))) as { value: Uint8Array };
      expect(new TextDecoder().decode(serial.value)).toBe(String(10_000_001 + index));
      await c.release();
    }
  });

  it("serves many meters on one port, chosen by wrapper destination wPort", async () => {
    const s = await start({ count: 3, sharedPort: true, transport: "wrapper" });
    const c = client(s.ports[0]!, { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 3 } });
    await c.connect();
    const serial = (await c.get(attr("0.0.96.1.0.255", 2, 1))) as { value: Uint8Array };
    expect(new TextDecoder().decode(serial.value)).toBe("10000003");
    await c.release();
  });

  it("serves Microstar-style 1-1: codes with obisChannel 1", async () => {
    const s = await start({ obisChannel: 1 });
    const c = client(s.ports[0]!);
    await c.connect();
    const [l1, standard] = await c.getMany([attr("1.1.32.7.0.255"), attr("1.0.32.7.0.255")]);
    expect(l1?.ok).toBe(true);
    expect(standard).toEqual({ ok: false, error: 4 });
    await c.release();
  });
});

describe("simulator scale and re-association", () => {
  it("serves 1000 meters on one port", async () => {
    const s = await start({ count: 1000, sharedPort: true });
    const c = client(s.ports[0]!, {
      kind: "hdlc",
      clientAddress: 16,
      serverAddress: { logical: 1, physical: 16 + 999 },
    });
    await c.connect();
    const serial = (await c.get(attr("0.0.96.1.0.255", 2, 1))) as { value: Uint8Array };
    expect(new TextDecoder().decode(serial.value)).toBe("10001000");
    await c.release();
  });

  it("authenticates by the client SAP of the latest SNRM on the same TCP connection", async () => {
    const s = await start({ auth: "low", password: "pw" });
    const conn = await raw(s.ports[0]!);
    /** Runs one client-role HDLC link over the shared socket until `until` sees the event it wants. */
    const exchange = async (link: HdlcLink, until: (e: LinkEvent) => boolean): Promise<LinkEvent> => {
      const seen = conn.received().length;
      for (const frame of link.takeOutgoing()) conn.socket.write(frame);
      const bytes = await conn.waitForBytes(seen + 1);
      link.receiveData(bytes.subarray(seen));
      for (let e = link.nextEvent(); e; e = link.nextEvent()) if (until(e)) return e;
      throw new Error("expected event not received");
    };
    const publicLink = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } });
    publicLink.connect();
    await exchange(publicLink, (e) => e.type === "connected");
    publicLink.disconnect();
    await exchange(publicLink, (e) => e.type === "disconnected");

    const llsLink = new HdlcLink({ role: "client", clientAddress: 1, serverAddress: { logical: 1 } });
    llsLink.connect();
    await exchange(llsLink, (e) => e.type === "connected");
    const aarq: Aarq = {
      tag: "aarq",
      applicationContext: "ln",
      mechanism: "low",
      authenticationValue: new TextEncoder().encode("pw"),
      userInformation: {
        tag: "initiate-request",
        responseAllowed: true,
        proposedDlmsVersion: 6,
        proposedConformance: DEFAULT_CLIENT_CONFORMANCE,
        clientMaxReceivePduSize: 1024,
      },
    };
    llsLink.sendApdu(encodeApdu(aarq));
    const reply = await exchange(llsLink, (e) => e.type === "apdu");
    expect(reply.type === "apdu" && decodeApdu(reply.apdu)).toMatchObject({ tag: "aare", result: "accepted" });
    conn.socket.destroy();
  });
});

describe("simulator serving HDLC and the wrapper at once", () => {
  it("serves the same meters on both transports, one association at a time across them", async () => {
    const s = await start({ count: 2, wrapperPort: 0 });
    expect(s.wrapperPorts).toHaveLength(2);
    expect(s.meters[1]!.wrapperPort).toBe(s.wrapperPorts[1]);
    const overWrapper = client(s.wrapperPorts[1]!, {
      kind: "wrapper",
      clientAddress: 16,
      serverAddress: { logical: 1 },
    });
    await overWrapper.connect();
    const serial = (await overWrapper.get(attr("0.0.96.1.0.255", 2, 1))) as { value: Uint8Array };
    expect(new TextDecoder().decode(serial.value)).toBe("10000002");
    // Meter 1 is busy with the wrapper client: an HDLC client gets DM, i.e. a failed connect.
    await expect(client(s.ports[1]!).connect()).rejects.toThrow();
    expect(s.meters[1]!.stats.busyRefusals).toBe(1);
    await overWrapper.release();
  });
});
