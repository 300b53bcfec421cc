// Client core against server core in memory (h11's ConnectionPair): the async client over a MemoryTransport on one
// side, the server-role data link + ServerAssociation + the simulator's meter model on the other. No sockets, no
// timing: the whole matrix of links, authentication and conformance runs in milliseconds.
import { describe, expect, it } from "vitest";
import { DlmsClient } from "../../src/client/client.js";
import { AssociationRejectedError } from "../../src/client/errors.js";
import { readRegisters, ScalerCache, sharedScalerTableSizes } from "../../src/client/reads.js";
import type { AssociationInfo, AuthSettings, LinkSettings } from "../../src/client/types.js";
import { decodeApdu, encodeApdu } from "../../src/dlms/apdu/index.js";
import type { GetRequest } from "../../src/dlms/apdu/types.js";
import { HdlcLink } from "../../src/dlms/hdlc/link.js";
import type { DataLink } from "../../src/dlms/link.js";
import { ServerAssociation } from "../../src/dlms/server/association.js";
import type { ClientAuth } from "../../src/dlms/server/negotiation.js";
import { WrapperLink } from "../../src/dlms/wrapper/link.js";
import { SimulatedMeter } from "../../src/sim/meter-model.js";
import { serverConformance } from "../../src/sim/server.js";
import { createMemoryPair, type MemoryTransport } from "../../src/transport/memory.js";

const PASSWORD = "12345678";
const REGISTERS = [
  { key: "voltage", obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 },
  { key: "current", obis: "1.0.31.7.0.255", classId: 3, attributeId: 2 },
  { key: "frequency", obis: "1.0.14.7.0.255", classId: 3, attributeId: 2 },
  { key: "active_power", obis: "1.0.1.7.0.255", classId: 3, attributeId: 2 },
  { key: "active_energy", obis: "1.0.1.8.0.255", classId: 3, attributeId: 2 },
];

/** The server end: bytes -> server link -> APDU -> ServerAssociation -> APDU -> link -> bytes. */
function serveMeter(end: MemoryTransport, kind: "hdlc" | "wrapper", multipleReferences: boolean) {
  const meter = new SimulatedMeter({ seed: 7, serialNumber: "12345678", now: () => 1_790_000_000_000 });
  const auth = new Map<number, ClientAuth>([
    [16, { mechanism: "none" }],
    [1, { mechanism: "low", password: new TextEncoder().encode(PASSWORD) }],
  ]);
  const association = new ServerAssociation({
    objects: meter,
    auth,
    conformance: serverConformance(multipleReferences),
    maxPduSize: 1024,
  });
  const link: DataLink =
    kind === "hdlc"
      ? new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 } })
      : new WrapperLink({ role: "server", clientWPort: 16, serverWPort: 1 });
  const requests: GetRequest[] = [];
  let clientSap = 16;
  end.onEvent((event) => {
    if (event.type !== "data") return;
    link.receiveData(event.bytes);
    for (let e = link.nextEvent(); e; e = link.nextEvent()) {
      if (e.type !== "apdu") continue;
      const request = decodeApdu(e.apdu);
      if (request.tag === "get-request") requests.push(request);
      // The wrapper carries the client's SAP as its source wPort; over HDLC the test's clients use 16 or 1.
      if (request.tag === "aarq") clientSap = request.mechanism === "low" ? 1 : 16;
      const response = association.handle(request, clientSap);
      if (response) link.sendApdu(encodeApdu(response));
    }
    for (const frame of link.takeOutgoing()) end.write(frame);
  });
  void end.open();
  return { requests };
}

function pair(kind: "hdlc" | "wrapper", auth: "none" | "low", multipleReferences: boolean, password = PASSWORD) {
  const [clientEnd, serverEnd] = createMemoryPair();
  const server = serveMeter(serverEnd, kind, multipleReferences);
  const clientAddress = auth === "low" ? 1 : 16;
  const link: LinkSettings =
    kind === "hdlc"
      ? { kind, clientAddress, serverAddress: { logical: 1 } }
      : { kind, clientAddress, serverAddress: { logical: 1 } };
  const authSettings: AuthSettings = auth === "low" ? { mechanism: "low", password } : { mechanism: "none" };
  const client = new DlmsClient({ transport: clientEnd, link, auth: authSettings, timeoutMs: 1000 });
  return { client, server };
}

describe("client <-> server cores in memory", () => {
  const matrix = (["hdlc", "wrapper"] as const).flatMap((kind) =>
    (["none", "low"] as const).flatMap((auth) => [true, false].map((mr) => [kind, auth, mr] as const)),
  );

  it.each(matrix)(
    "%s, auth %s, multiple-references %s: scaled values, one request or one per register",
    async (kind, auth, mr) => {
      const { client, server } = pair(kind, auth, mr);
      const info = await client.connect();
      expect(info.multipleReferences).toBe(mr);
      const values = await readRegisters(client, REGISTERS, new ScalerCache());
      expect(values.voltage).toMatchObject({ unit: "V", value: expect.closeTo(230, -2) });
      expect(values.frequency).toMatchObject({ unit: "Hz", value: expect.closeTo(50, 0) });
      expect(values.active_energy).toMatchObject({ unit: "Wh" });
      // What the server received: every value (attr 2) inside one GET-with-list when negotiated (scaler_units may
      // share it), else no list at all and one GET-normal per value.
      const lists = server.requests.filter((r) => r.kind === "with-list");
      const normalValueGets = server.requests.filter((r) => r.kind === "normal" && r.attribute.attributeId === 2);
      if (mr) {
        expect(lists).toHaveLength(1);
        expect(lists[0]!.attributes.filter((a) => a.attributeId === 2)).toHaveLength(REGISTERS.length);
        expect(normalValueGets).toHaveLength(0);
      } else {
        expect(lists).toHaveLength(0);
        expect(normalValueGets).toHaveLength(REGISTERS.length);
      }
      await client.release();
    },
  );

  it("polls after the first reuse one request plan per register list, and a register edited in place is read anew", async () => {
    const { client, server } = pair("wrapper", "none", true);
    await client.connect();
    const specs = REGISTERS.map((r) => ({ ...r }));
    const cache = new ScalerCache();
    await readRegisters(client, specs, cache); // values + scaler_units
    await readRegisters(client, specs, cache); // values only, plan built
    const again = await readRegisters(client, specs, cache); // plan reused
    expect(again.voltage).toMatchObject({ unit: "V" });
    const lists = server.requests.filter((r) => r.kind === "with-list");
    expect(lists.map((l) => l.attributes.length)).toEqual([10, 5, 5]);

    // Same list object, one register now points at another object: the plan must not be reused.
    specs[0] = { ...specs[0]!, key: "energy_again", obis: "1.0.1.8.0.255" };
    specs[1]!.obis = "1.0.14.7.0.255"; // edited in place: frequency instead of current
    const edited = await readRegisters(client, specs, cache);
    expect(edited.current).toMatchObject({ unit: "Hz", value: expect.closeTo(50, 0) });
    expect(edited.energy_again).toMatchObject({ unit: "Wh" });
    const last = server.requests.filter((r) => r.kind === "with-list").at(-1)!;
    // Registers reading the same attribute share one request (scalers of all three OBIS are cached already).
    expect(last.attributes.map((a) => a.instanceId.join("."))).toEqual([
      "1.0.1.8.0.255",
      "1.0.14.7.0.255",
      "1.0.1.7.0.255",
    ]);
    await client.release();
  });

  it("meters of one type share their scaler/unit objects and cache keys, and the values stay right", async () => {
    const caches: ScalerCache[] = [];
    for (const kind of ["hdlc", "wrapper"] as const) {
      const { client } = pair(kind, "none", true);
      await client.connect();
      const cache = new ScalerCache();
      const values = await readRegisters(
        client,
        REGISTERS.map((r) => ({ ...r })),
        cache,
      );
      expect(values.voltage).toMatchObject({ unit: "V", value: expect.closeTo(230, -2) });
      caches.push(cache);
      await client.release();
    }
    const [first, second] = caches as [ScalerCache, ScalerCache];
    expect([...first.entries()].map(([key]) => key)).toEqual(REGISTERS.map((r) => `3:${r.obis}`));
    for (const [key, scalerUnit] of first.entries()) {
      expect(second.get(key)).toBe(scalerUnit); // the same object, not an equal one
      expect(Object.isFrozen(scalerUnit)).toBe(true);
    }
    // One entry per distinct value, not per meter.
    const sizes = sharedScalerTableSizes();
    expect(sizes.keys).toBeLessThanOrEqual(REGISTERS.length + 16);
    expect(sizes.scalerUnits).toBeLessThanOrEqual(REGISTERS.length + 16);
  });

  it("clients whose associations agreed the same share one frozen AssociationInfo; a different one gets its own", async () => {
    const infos = [];
    for (const [kind, mr] of [
      ["hdlc", true],
      ["hdlc", true],
      ["hdlc", false],
      ["wrapper", true],
    ] as const) {
      const { client } = pair(kind, "none", mr);
      infos.push(await client.connect());
      await client.release();
    }
    const [a, b, noList, wrapper] = infos as [AssociationInfo, AssociationInfo, AssociationInfo, AssociationInfo];
    expect(b).toBe(a);
    expect(Object.isFrozen(a) && Object.isFrozen(a.conformanceNames) && Object.isFrozen(a.hdlc)).toBe(true);
    expect(a).toMatchObject({ multipleReferences: true, hdlc: { maxInfoTx: 128, windowTx: 1 } });
    expect(a.conformanceNames).toContain("multiple-references");
    expect(noList).not.toBe(a);
    expect(noList.multipleReferences).toBe(false);
    expect(noList.conformanceNames).not.toContain("multiple-references");
    expect(wrapper.hdlc).toBeUndefined();
  });

  it("a wrong LLS password is rejected with the diagnostic's name", async () => {
    const { client } = pair("hdlc", "low", true, "wrong-pw");
    const error = await client.connect().catch((e) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect(error.message).toContain("authentication-failure");
    expect(error.message).not.toContain("wrong-pw");
  });
});
