// Client behaviour against a scripted meter over the in-memory transport: request matching, serialisation,
// GET-with-list vs sequential GETs, failures that must surface at once, and secrets kept out of traces.
import { afterEach, describe, expect, it } from "vitest";
import { DlmsClient } from "../../src/client/client.js";
import {
  ConnectionClosedError,
  ExceptionResponseError,
  ProtocolViolationError,
  TimeoutError,
} from "../../src/client/errors.js";
import { readAttributes, readRegisters, ScalerCache } from "../../src/client/reads.js";
import type { DlmsClientOptions } from "../../src/client/types.js";
import type { Apdu, AttributeRequest, InvokeIdAndPriority } from "../../src/dlms/apdu/types.js";
import { encodeData } from "../../src/dlms/axdr/index.js";
import type { DlmsData } from "../../src/dlms/axdr/types.js";
import { toHex } from "../../src/dlms/codec/hex.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { decodeFrame } from "../../src/dlms/hdlc/frame.js";
import { createMemoryPair } from "../../src/transport/memory.js";
import { failsAfterMissingInList, key, ScriptedMeter, type ScriptedMeterOptions } from "./scripted-meter.js";

const VOLTAGE = "1.0.32.7.0.255";
const CURRENT = "1.0.31.7.0.255";
const u16 = (value: number): DlmsData => ({ type: "long-unsigned", value });
const scalerUnit = (scaler: number, unit: number): DlmsData => ({
  type: "structure",
  value: [
    { type: "integer", value: scaler },
    { type: "enum", value: unit },
  ],
});
const VALUES: Record<string, DlmsData> = {
  [key(3, VOLTAGE, 2)]: u16(23012),
  [key(3, VOLTAGE, 3)]: scalerUnit(-2, 35),
  [key(3, CURRENT, 2)]: u16(1234),
  [key(3, CURRENT, 3)]: scalerUnit(-3, 33),
};
const attr = (obis: string, attributeId = 2, classId = 3): AttributeRequest => ({
  classId,
  instanceId: parseObis(obis),
  attributeId,
});

/** The exception-response a meter sends for a service it refuses. */
const SERVICE_NOT_SUPPORTED = {
  tag: "exception-response",
  stateError: 1,
  stateErrorName: "service-not-allowed",
  serviceError: 2,
  serviceErrorName: "service-not-supported",
} as const;

const clients: DlmsClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

function setup(meterOptions: ScriptedMeterOptions = {}, clientOptions: Partial<DlmsClientOptions> = {}) {
  const [clientEnd, serverEnd] = createMemoryPair();
  const meter = new ScriptedMeter(serverEnd, { values: VALUES, ...meterOptions });
  const client = new DlmsClient({
    transport: clientEnd,
    link:
      meterOptions.kind === "wrapper"
        ? { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } }
        : { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } },
    auth: { mechanism: "none" },
    timeoutMs: 500,
    ...clientOptions,
  });
  clients.push(client);
  return { client, meter, wire: clientEnd.written };
}

const getRequests = (meter: ScriptedMeter) =>
  meter.requests.filter((r): r is Extract<Apdu, { tag: "get-request" }> => r.tag === "get-request");

describe("getMany", () => {
  it("sends one GET-with-list when this association negotiated multiple-references", async () => {
    const { client, meter } = setup({ conformance: ["get", "multiple-references"] });
    await client.connect();
    const results = await client.getMany([attr(VOLTAGE), attr(CURRENT), attr("0.0.96.1.0.255", 2, 1)]);
    expect(results).toEqual([
      { ok: true, data: u16(23012) },
      { ok: true, data: u16(1234) },
      { ok: false, error: 4 },
    ]);
    expect(getRequests(meter).map((r) => r.kind)).toEqual(["with-list"]);
  });

  it("falls back to one GET-normal per attribute when multiple-references was not granted", async () => {
    const { client, meter } = setup({ conformance: ["get"] });
    const info = await client.connect();
    expect(info.multipleReferences).toBe(false);
    const results = await client.getMany([attr(VOLTAGE), attr(CURRENT), attr("0.0.96.1.0.255", 2, 1)]);
    expect(results.map((r) => r.ok)).toEqual([true, true, false]);
    expect(getRequests(meter).map((r) => r.kind)).toEqual(["normal", "normal", "normal"]);
  });

  it("splits the list so that no request exceeds the server's max PDU size", async () => {
    const { client, meter } = setup({ conformance: ["get", "multiple-references"], maxPduSize: 40 });
    await client.connect();
    const obisList = Array.from({ length: 7 }, (_, i) => `1.0.${i + 1}.7.0.255`);
    const results = await client.getMany(obisList.map((o) => attr(o)));
    expect(results).toHaveLength(7);
    const lists = getRequests(meter);
    expect(lists.length).toBeGreaterThan(1);
    expect(lists.every((r) => r.kind === "with-list")).toBe(true);
    // Order is preserved across the split, and every encoded request fits the 40-byte PDU.
    const requested = lists.flatMap((r) => (r.kind === "with-list" ? r.attributes : []));
    expect(requested.map((a) => Array.from(a.instanceId).join("."))).toEqual(obisList);
    for (const frame of meter.framesIn.slice(2)) expect(decodeFrame(frame).info.length - 3).toBeLessThanOrEqual(40);
  });
});

describe("readRegisters", () => {
  it("takes a demand register's scaler_unit from attribute 4", async () => {
    const demand = "1.0.1.4.0.255";
    const { client, meter } = setup({
      conformance: ["get"],
      values: { [key(5, demand, 2)]: u16(1500), [key(5, demand, 4)]: scalerUnit(1, 27) },
    });
    await client.connect();
    const values = await readRegisters(client, [{ key: "demand", obis: demand, classId: 5, attributeId: 2 }]);
    expect(values.demand).toMatchObject({ value: 15000, unit: "W", scaler: 1 });
    expect(getRequests(meter).map((r) => (r.kind === "normal" ? r.attribute.attributeId : -1))).toEqual([2, 4]);
  });

  it("reads scaler_unit once per association (cached) and applies it exactly", async () => {
    const { client, meter } = setup({ conformance: ["get", "multiple-references"] });
    await client.connect();
    const specs = [
      { key: "voltage", obis: VOLTAGE, classId: 3, attributeId: 2 },
      { key: "current", obis: CURRENT, classId: 3, attributeId: 2 },
      { key: "missing", obis: "1.0.99.7.0.255", classId: 3, attributeId: 2 },
    ];
    const cache = new ScalerCache();
    const first = await readRegisters(client, specs, cache);
    expect(first.voltage).toMatchObject({ value: 230.12, unit: "V", scaler: -2 });
    expect(first.current).toMatchObject({ value: 1.234, unit: "A", scaler: -3 });
    expect(first.missing).toMatchObject({ reason: "object-undefined" });
    await readRegisters(client, specs, cache);
    const sent = getRequests(meter).map((r) =>
      r.kind === "with-list"
        ? r.attributes.map((a) => a.attributeId)
        : r.kind === "normal"
          ? r.attribute.attributeId
          : r.kind,
    );
    expect(sent).toEqual([
      [2, 3, 2, 3, 2, 3],
      2, // the failed item, re-read alone before it counts as failed; its scaler_unit is not asked for
      // Second poll: values only, plus the scaler of the object that failed (nothing cached for it).
      [2, 2, 2, 3],
      2,
    ]);
  });

  const MISSING = "1.0.99.7.0.255";
  const FREQUENCY = "1.0.14.7.0.255";
  const QUIRK_VALUES = { ...VALUES, [key(3, FREQUENCY, 2)]: u16(4998), [key(3, FREQUENCY, 3)]: scalerUnit(-2, 44) };
  const SPECS = [
    { key: "voltage", obis: VOLTAGE, classId: 3, attributeId: 2 },
    { key: "missing", obis: MISSING, classId: 3, attributeId: 2 },
    { key: "current", obis: CURRENT, classId: 3, attributeId: 2 },
    { key: "frequency", obis: FREQUENCY, classId: 3, attributeId: 2 },
  ];
  const describeSent = (meter: ScriptedMeter) =>
    getRequests(meter).map((r) =>
      r.kind === "with-list"
        ? r.attributes.map((a) => `${a.instanceId[2]}/${a.attributeId}`)
        : r.kind === "normal"
          ? `${r.attribute.instanceId[2]}/${r.attribute.attributeId}`
          : r.kind,
    );

  it("re-reads singly the items a with-list reply failed after a missing object, so one gap hides nothing", async () => {
    const { client, meter } = setup({
      conformance: ["get", "multiple-references"],
      values: QUIRK_VALUES,
      script: failsAfterMissingInList, // every item after the missing one fails in the list
    });
    await client.connect();
    const values = await readRegisters(client, SPECS, new ScalerCache());
    expect(values).toEqual({
      voltage: expect.objectContaining({ value: 230.12, unit: "V" }),
      missing: { error: "attr 2: data-access-result object-undefined (4)", reason: "object-undefined" },
      current: expect.objectContaining({ value: 1.234, unit: "A" }),
      frequency: expect.objectContaining({ value: 49.98, unit: "Hz" }),
    });
    expect(describeSent(meter)).toEqual([
      ["32/2", "32/3", "99/2", "99/3", "31/2", "31/3", "14/2", "14/3"],
      // Singly, in order, each value before its scaler; the missing object's scaler_unit is not asked for.
      "99/2",
      "31/2",
      "31/3",
      "14/2",
      "14/3",
    ]);
  });

  it("without multiple-references reads each value then its scaler, and no scaler after a failed value", async () => {
    const { client, meter } = setup({ conformance: ["get"], values: QUIRK_VALUES });
    await client.connect();
    const values = await readRegisters(client, SPECS, new ScalerCache());
    expect(values.missing).toEqual({
      error: "attr 2: data-access-result object-undefined (4)",
      reason: "object-undefined",
    });
    expect(values.current).toMatchObject({ value: 1.234, unit: "A" });
    expect(describeSent(meter)).toEqual(["32/2", "32/3", "99/2", "31/2", "31/3", "14/2", "14/3"]);
  });

  it("requests an attribute once when the value and an explicit 3/OBIS/3 are read in one call", async () => {
    const { client, meter } = setup({ conformance: ["get", "multiple-references"] });
    await client.connect();
    const values = await readAttributes(client, [
      { key: "voltage", obis: VOLTAGE, classId: 3, attributeId: 2 },
      { key: "voltage_scaler", obis: VOLTAGE, classId: 3, attributeId: 3 },
    ]);
    expect(values.voltage).toMatchObject({ ok: true, data: u16(23012), scalerUnit: { scaler: -2, unit: "V" } });
    expect(values.voltage_scaler).toMatchObject({ ok: true, data: scalerUnit(-2, 35) });
    expect(describeSent(meter)).toEqual([["32/2", "32/3"]]);
  });

  it("names the scaler_unit attribute when only the scaler failed", async () => {
    const { client } = setup({ conformance: ["get"], values: { [key(3, VOLTAGE, 2)]: u16(23012) } });
    await client.connect();
    const values = await readRegisters(client, [{ key: "voltage", obis: VOLTAGE, classId: 3, attributeId: 2 }]);
    expect(values.voltage).toEqual({
      error: "scaler_unit (attr 3): data-access-result object-undefined (4)",
      reason: "object-undefined",
    });
  });
});

describe("block transfer", () => {
  /** Serves `raw` as GET-Response-With-Datablock in blocks of `size` bytes, numbered from 1. */
  function blockServer(raw: Uint8Array, size: number, badBlockNumber?: number) {
    let invoke: InvokeIdAndPriority | undefined;
    return (request: Apdu): Apdu[] | undefined => {
      if (request.tag !== "get-request") return undefined;
      if (request.kind !== "next") invoke = request.invoke;
      const block = request.kind === "next" ? request.blockNumber + 1 : 1;
      const part = raw.subarray((block - 1) * size, block * size);
      return [
        {
          tag: "get-response",
          kind: "with-datablock",
          invoke: invoke!,
          lastBlock: block * size >= raw.length,
          blockNumber: block === badBlockNumber ? block + 1 : block,
          result: { ok: true, raw: part },
        },
      ];
    };
  }

  it("reassembles a GET-with-list answered in several blocks into one result per attribute", async () => {
    // SEQUENCE OF Get-Data-Result: count, then 00 + Data or 01 + data-access-result.
    const raw = Uint8Array.from([3, 0, ...encodeData(u16(23012)), 1, 4, 0, ...encodeData(u16(1234))]);
    const { client, meter } = setup({ conformance: ["get", "multiple-references"], script: blockServer(raw, 4) });
    await client.connect();
    const results = await client.getMany([attr(VOLTAGE), attr("1.0.99.7.0.255"), attr(CURRENT)]);
    expect(results).toEqual([
      { ok: true, data: u16(23012) },
      { ok: false, error: 4 },
      { ok: true, data: u16(1234) },
    ]);
    expect(getRequests(meter).map((r) => (r.kind === "next" ? `next ${r.blockNumber}` : r.kind))).toEqual([
      "with-list",
      "next 1",
      "next 2",
    ]);
  });

  it("a block out of sequence is a ProtocolViolationError naming the blocks", async () => {
    const raw = encodeData({ type: "octet-string", value: new Uint8Array(20) });
    const { client } = setup({ script: blockServer(raw, 8, 2) });
    await client.connect();
    const error = await client.get(attr(VOLTAGE)).catch((e) => e);
    expect(error).toBeInstanceOf(ProtocolViolationError);
    expect(error.message).toContain("expected block 2, got block 3");
  });
});

describe("getMany fallback", () => {
  it("falls back to GET-normal for the association when a meter refuses GET-with-list despite the conformance", async () => {
    const { client, meter } = setup({
      conformance: ["get", "multiple-references"],
      script: (r) => (r.tag === "get-request" && r.kind === "with-list" ? [SERVICE_NOT_SUPPORTED] : undefined),
    });
    await client.connect();
    const first = await client.getMany([attr(VOLTAGE), attr(CURRENT)]);
    expect(first).toEqual([
      { ok: true, data: u16(23012) },
      { ok: true, data: u16(1234) },
    ]);
    await client.getMany([attr(VOLTAGE), attr(CURRENT)]);
    expect(getRequests(meter).map((r) => r.kind)).toEqual(["with-list", "normal", "normal", "normal", "normal"]);
  });
});

describe("request matching and failures", () => {
  // HDLC: the stale reply carries the F bit, so the meter holds the right reply until the client polls (RR+P).
  it.each(["wrapper", "hdlc"] as const)(
    "%s: discards and counts a reply with a stale invoke id, then accepts the right one",
    async (kind) => {
      const discarded: string[] = [];
      const { client } = setup(
        {
          kind,
          script: (request, meter) => {
            if (request.tag !== "get-request" || request.kind !== "normal") return undefined;
            const stale = { ...request.invoke, invokeId: (request.invoke.invokeId + 15) % 16 };
            return [
              { tag: "get-response", kind: "normal", invoke: stale, result: { ok: true, data: u16(1) } },
              { tag: "get-response", kind: "normal", invoke: request.invoke, result: meter.answer(request.attribute) },
            ];
          },
        },
        { onDiscarded: (e) => discarded.push(e.message) },
      );
      await client.connect();
      await expect(client.get(attr(VOLTAGE))).resolves.toEqual(u16(23012));
      expect(client.discardedResponses).toBe(1);
      expect(discarded).toEqual([
        expect.stringMatching(/get-response invoke id \d+ .*while waiting for GET 1\.0\.32\.7\.0\.255/),
      ]);
    },
  );

  it("cycles invoke ids so consecutive requests carry different ids", async () => {
    const { client, meter } = setup({ conformance: ["get"] });
    await client.connect();
    await client.getMany([attr(VOLTAGE), attr(CURRENT), attr(VOLTAGE, 3)]);
    const ids = getRequests(meter).map((r) => r.invoke.invokeId);
    expect(new Set(ids).size).toBe(3);
  });

  it("rejects the pending request and every queued one at once when the socket is lost", async () => {
    const { client } = setup(
      {
        script: (request, meter) => {
          if (request.tag === "get-request") setTimeout(() => meter.drop(), 10);
          return request.tag === "get-request" ? [] : undefined;
        },
      },
      { timeoutMs: 5000 },
    );
    await client.connect();
    const started = Date.now();
    const pending = [client.get(attr(VOLTAGE)), client.get(attr(CURRENT)), client.getMany([attr(VOLTAGE)])];
    const outcomes = await Promise.allSettled(pending);
    expect(Date.now() - started).toBeLessThan(1000); // not the 5 s timeout
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      expect((o as PromiseRejectedResult).reason).toBeInstanceOf(ConnectionClosedError);
    }
    expect((outcomes[0] as PromiseRejectedResult).reason.message).toContain(
      "connection lost during GET 1.0.32.7.0.255",
    );
    expect(client.connected).toBe(false);
  });

  it("concurrent calls reach the meter one at a time in call order; a failed one does not block the next", async () => {
    const { client, meter } = setup({
      script: (r) =>
        r.tag === "get-request" && r.kind === "normal" && r.attribute.attributeId === 3
          ? [SERVICE_NOT_SUPPORTED]
          : undefined,
    });
    await client.connect();
    const outcomes = await Promise.allSettled([
      client.get(attr(VOLTAGE)),
      client.get(attr(VOLTAGE, 3)),
      client.getMany([attr(CURRENT), attr(VOLTAGE)]),
      client.get(attr(CURRENT)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect((outcomes[1] as PromiseRejectedResult).reason).toBeInstanceOf(ExceptionResponseError);
    const sent = getRequests(meter).map((r) =>
      r.kind === "normal" ? `${toHex(r.attribute.instanceId)}/${r.attribute.attributeId}` : r.kind,
    );
    const v = toHex(parseObis(VOLTAGE));
    expect(sent).toEqual([`${v}/2`, `${v}/3`, "with-list", `${toHex(parseObis(CURRENT))}/2`]);
  });

  it("a GET without answer is a TimeoutError on step get naming the object", async () => {
    const { client } = setup({ script: (r) => (r.tag === "get-request" ? [] : undefined) }, { timeoutMs: 100 });
    await client.connect();
    const error = await client.get(attr(VOLTAGE)).catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ step: "get" });
    expect(error.message).toContain("no answer to GET 1.0.32.7.0.255 class 3 attr 2");
  });

  it("an ExceptionResponse rejects with ExceptionResponseError naming the errors", async () => {
    const { client } = setup({
      script: (r) => (r.tag === "get-request" ? [SERVICE_NOT_SUPPORTED] : undefined),
    });
    await client.connect();
    const error = await client.get(attr(VOLTAGE)).catch((e) => e);
    expect(error).toBeInstanceOf(ExceptionResponseError);
    expect(error.message).toContain("service-not-allowed");
  });

  it("a ConfirmedServiceError to a GET names the object", async () => {
    const { client } = setup({
      script: (r) =>
        r.tag === "get-request"
          ? [
              {
                tag: "confirmed-service-error",
                service: 1,
                serviceName: "initiateError",
                errorClass: 6,
                errorClassName: "initiate",
                errorCode: 1,
                errorName: "dlms-version-too-low",
              },
            ]
          : undefined,
    });
    await client.connect();
    const error = await client.get(attr(VOLTAGE)).catch((e) => e);
    expect(error).toBeInstanceOf(ProtocolViolationError);
    expect(error.message).toBe(
      "GET 1.0.32.7.0.255 class 3 attr 2 answered with confirmed-service-error dlms-version-too-low",
    );
  });

  it("release tolerates a meter that never answers RLRQ, then sends DISC", async () => {
    const { client, meter } = setup({ script: (r) => (r.tag === "rlrq" ? [] : undefined) }, { timeoutMs: 100 });
    await client.connect();
    await expect(client.release()).resolves.toBeUndefined();
    expect(client.connected).toBe(false);
    const types = meter.framesIn.map((f) => decodeFrame(f).type);
    expect(types.at(-1)).toBe("DISC");
  });
});

describe("connect options and traces", () => {
  it("discFirst sends DISC before SNRM", async () => {
    const { client, wire } = setup({}, { discFirst: true, timeoutMs: 100 });
    await client.connect();
    expect(wire.slice(0, 2).map((f) => decodeFrame(f).type)).toEqual(["DISC", "SNRM"]);
  });

  it("without discFirst the first frame is SNRM", async () => {
    const { client, wire } = setup();
    await client.connect();
    expect(decodeFrame(wire[0]!).type).toBe("SNRM");
  });

  it("shows every frame to onFrame with the LLS password masked, while the wire carries it", async () => {
    const password = "s3cr3t-pw";
    const traced: { direction: string; hex: string; summary: string }[] = [];
    const { client, wire } = setup(
      {},
      {
        auth: { mechanism: "low", password },
        onFrame: (direction, bytes, summary) => traced.push({ direction, hex: toHex(bytes), summary }),
      },
    );
    await client.connect();
    await client.get(attr(VOLTAGE));
    await client.release();
    const secretHex = toHex(new TextEncoder().encode(password));
    expect(wire.some((f) => toHex(f).includes(secretHex))).toBe(true);
    expect(traced.some((t) => t.hex.includes(secretHex))).toBe(false);
    expect(traced.map((t) => t.summary).join("\n")).not.toContain(password);
    expect(traced.filter((t) => t.direction === "tx")).toHaveLength(wire.length);
    expect(traced.find((t) => t.summary.includes("AARQ"))?.hex).toContain(toHex(new TextEncoder().encode("*********")));
    expect(traced.some((t) => t.direction === "rx" && t.summary.startsWith("UA"))).toBe(true);
  });

  it("works over the wrapper with the same API", async () => {
    const { client, meter } = setup({ kind: "wrapper", conformance: ["get"] });
    await client.connect();
    await expect(client.get(attr(CURRENT))).resolves.toEqual(u16(1234));
    await client.release();
    expect(meter.requests.map((r) => r.tag)).toEqual(["aarq", "get-request", "rlrq"]);
  });
});
