// The client against the project's meter simulator over real TCP: two independent implementations of each
// side of the protocol must agree, including faults the simulator injects.
import { afterEach, describe, expect, it } from "vitest";
import { DlmsClient } from "../../src/client/client.js";
import { AssociationRejectedError, ConnectionClosedError, TimeoutError } from "../../src/client/errors.js";
import { readRegisters, ScalerCache } from "../../src/client/reads.js";
import type { DlmsClientOptions, LinkSettings } from "../../src/client/types.js";
import { decodeObjectList } from "../../src/dlms/cosem/association-ln.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../../src/sim/server.js";
import { TcpTransport } from "../../src/transport/tcp.js";

const REGISTERS = [
  { key: "voltage", obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 },
  { key: "current", obis: "1.0.31.7.0.255", classId: 3, attributeId: 2 },
  { key: "frequency", obis: "1.0.14.7.0.255", classId: 3, attributeId: 2 },
  { key: "energy", obis: "1.0.1.8.0.255", classId: 3, attributeId: 2 },
];

const running: RunningSimulator[] = [];
const clients: DlmsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of running.splice(0)) await s.close();
});

async function simulator(options: SimulatorOptions = {}): Promise<number> {
  const sim = await startSimulator({ host: "127.0.0.1", port: 0, ...options });
  running.push(sim);
  return sim.ports[0]!;
}

function client(port: number, opts: Partial<Omit<DlmsClientOptions, "transport">> = {}) {
  const c = new DlmsClient({
    transport: new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 1000 }),
    link: opts.link ?? { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } },
    auth: opts.auth ?? { mechanism: "none" },
    timeoutMs: opts.timeoutMs ?? 2000,
    ...opts,
  });
  clients.push(c);
  return c;
}

function expectPlausible(values: Awaited<ReturnType<typeof readRegisters>>) {
  expect(values.voltage).toMatchObject({ unit: "V", value: expect.closeTo(230, -2) });
  expect(values.current).toMatchObject({ unit: "A" });
  expect(values.frequency).toMatchObject({ unit: "Hz", value: expect.closeTo(50, 0) });
  expect(values.energy).toMatchObject({ unit: "Wh" });
}

describe("DlmsClient against the simulator", () => {
  it.each([
    ["hdlc", true],
    ["hdlc", false],
    ["wrapper", true],
  ] as const)("reads scaled registers over %s (multiple-references %s)", async (transport, multipleReferences) => {
    const port = await simulator({ transport, multipleReferences });
    const link: LinkSettings =
      transport === "wrapper"
        ? { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } }
        : { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } };
    const c = client(port, { link });
    const info = await c.connect();
    expect(info.multipleReferences).toBe(multipleReferences);
    const cache = new ScalerCache();
    expectPlausible(await readRegisters(c, REGISTERS, cache));
    expect(cache.size).toBe(4);
    await c.release();
  });

  it("LLS with the right password associates; a wrong one is rejected with authentication-failure", async () => {
    const port = await simulator({ auth: "low", password: "12345678" });
    const link: LinkSettings = { kind: "hdlc", clientAddress: 17, serverAddress: { logical: 1 } };
    const good = client(port, { link, auth: { mechanism: "low", password: "12345678" } });
    await good.connect();
    await good.release();
    const bad = client(port, { link, auth: { mechanism: "low", password: "nope" } });
    const error = await bad.connect().catch((e) => e);
    expect(error).toBeInstanceOf(AssociationRejectedError);
    expect(error.diagnostic).toBe("authentication-failure");
  });

  it("reads the association object list through segmentation and block transfer", async () => {
    const port = await simulator({ hdlcMaxInfo: 64, maxPduSize: 256 });
    const summaries: string[] = [];
    const c = client(port, {
      link: { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 }, maxInfo: 64 },
      timeoutMs: 3000,
      maxReceivePduSize: 256, // the object list needs several blocks
      onFrame: (direction, _bytes, summary) => summaries.push(`${direction} ${summary}`),
    });
    await c.connect();
    const list = decodeObjectList(
      await c.get({ classId: 15, instanceId: parseObis("0.0.40.0.0.255"), attributeId: 2 }),
    );
    expect(list.map((e) => e.obis)).toEqual(expect.arrayContaining(["1.0.32.7.0.255", "0.0.42.0.0.255"]));
    expect(summaries.filter((s) => s.startsWith("rx I") && s.endsWith(" seg")).length).toBeGreaterThan(0);
    expect(summaries.filter((s) => s.startsWith("tx RR")).length).toBeGreaterThan(0);
    expect(summaries.filter((s) => s.includes("GET.req next")).length).toBeGreaterThan(0);
    await c.release();
  });

  it("a refused association is AssociationRejectedError", async () => {
    const port = await simulator({ refuseAssociation: true });
    await expect(client(port).connect()).rejects.toBeInstanceOf(AssociationRejectedError);
  });

  it("a silent meter is a TimeoutError on SNRM", async () => {
    const port = await simulator({ silence: true });
    const error = await client(port, { timeoutMs: 200 })
      .connect()
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.step).toBe("snrm");
  });

  it("a timeout on a garbled line says how many frames were discarded and why", async () => {
    const port = await simulator({ corruptFcsEvery: 1 });
    const error = await client(port, { timeoutMs: 300 })
      .connect()
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toMatch(/no answer to SNRM.*frames discarded meanwhile: \d+ bad-fcs/);
  });

  it("a meter dropping the connection mid-frame rejects the pending read with ConnectionClosedError", async () => {
    const port = await simulator({ dropMidFrameAfter: 3 }); // UA, AARE, one GET answer, then half a frame
    const c = client(port, { timeoutMs: 5000 });
    await c.connect();
    await c.get({ classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 });
    const started = Date.now();
    const error = await c.get({ classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 }).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
