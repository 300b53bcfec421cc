import { describe, expect, it } from "vitest";
import { conformanceMask, hasConformance } from "../../../src/dlms/apdu/conformance.js";
import type {
  Aare,
  Aarq,
  Apdu,
  AttributeRequest,
  GetDataResult,
  GetRequest,
  GetResponse,
  InitiateRequest,
  InitiateResponse,
} from "../../../src/dlms/apdu/types.js";
import { decodeData } from "../../../src/dlms/axdr/index.js";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { encodeObjectList } from "../../../src/dlms/cosem/association-ln.js";
import { ServerAssociation, type ServerAssociationOptions } from "../../../src/dlms/server/association.js";
import type { CosemObjectModel, ObjectListEntry } from "../../../src/dlms/server/object-model.js";

const VOLTAGE = Uint8Array.of(1, 0, 32, 7, 0, 255);
const MISSING = Uint8Array.of(1, 0, 99, 99, 0, 255);
const ASSOCIATION = Uint8Array.of(0, 0, 40, 0, 0, 255);
const PASSWORD = new TextEncoder().encode("12345678");
const invoke = { invokeId: 3, confirmed: true, highPriority: true };

/** A model with one register plus enough dummy objects to make the object list need several blocks. */
function fakeModel(extraObjects = 0): CosemObjectModel {
  const readOnly = (...ids: number[]) => ids.map((id) => ({ id, access: 1 }));
  const entries: ObjectListEntry[] = [
    { classId: 3, version: 0, obis: "1.0.32.7.0.255", attributes: readOnly(1, 2, 3), methods: [] },
  ];
  for (let i = 0; i < extraObjects; i++) {
    entries.push({ classId: 1, version: 0, obis: `0.0.96.1.${i}.255`, attributes: readOnly(1, 2), methods: [] });
  }
  return {
    get(classId, ln, attributeId): GetDataResult {
      if (classId !== 3 || ln.join(".") !== VOLTAGE.join(".")) return { ok: false, error: 4 };
      if (attributeId === 2) return { ok: true, data: { type: "long-unsigned", value: 2301 } };
      if (attributeId === 3) {
        return {
          ok: true,
          data: {
            type: "structure",
            value: [
              { type: "integer", value: -1 },
              { type: "enum", value: 35 },
            ],
          },
        };
      }
      return { ok: false, error: 3 };
    },
    list: () => entries,
  };
}

const SERVER_CONFORMANCE = conformanceMask([
  "block-transfer-with-get-or-read",
  "multiple-references",
  "get",
  "selective-access",
]);
const CLIENT_CONFORMANCE = conformanceMask([
  "block-transfer-with-get-or-read",
  "multiple-references",
  "get",
  "set",
  "action",
]);

function server(overrides: Partial<ServerAssociationOptions> = {}): ServerAssociation {
  return new ServerAssociation({
    objects: fakeModel(),
    auth: new Map([
      [16, { mechanism: "none" }],
      [1, { mechanism: "low", password: PASSWORD }],
    ]),
    conformance: SERVER_CONFORMANCE,
    maxPduSize: 1024,
    ...overrides,
  });
}

function aarq(overrides: Partial<Aarq> = {}, init: Partial<InitiateRequest> = {}): Aarq {
  return {
    tag: "aarq",
    applicationContext: "ln",
    userInformation: {
      tag: "initiate-request",
      responseAllowed: true,
      proposedDlmsVersion: 6,
      proposedConformance: CLIENT_CONFORMANCE,
      clientMaxReceivePduSize: 1024,
      ...init,
    },
    ...overrides,
  };
}

function attribute(ln: Uint8Array, attributeId = 2, classId = 3): AttributeRequest {
  return { classId, instanceId: ln, attributeId };
}

function getNormal(ln: Uint8Array, attributeId = 2, classId = 3): GetRequest {
  return { tag: "get-request", kind: "normal", invoke, attribute: attribute(ln, attributeId, classId) };
}

function asAare(apdu: Apdu | null): Aare {
  if (apdu?.tag !== "aare") throw new Error(`expected an AARE, got ${apdu?.tag}`);
  return apdu;
}

function asGetResponse(apdu: Apdu | null): GetResponse {
  if (apdu?.tag !== "get-response") throw new Error(`expected a GET response, got ${apdu?.tag}`);
  return apdu;
}

function associated(s = server(), sap = 16, request = aarq()): ServerAssociation {
  expect(asAare(s.handle(request, sap)).result).toBe("accepted");
  return s;
}

describe("ServerAssociation: AARQ", () => {
  it("accepts a public client without authentication and answers the negotiated conformance and PDU size", () => {
    const s = server();
    const aare = asAare(s.handle(aarq(), 16));
    expect(aare.result).toBe("accepted");
    expect(aare.diagnostic).toEqual({ source: "user", code: 0, name: "null" });
    const init = aare.userInformation as InitiateResponse;
    expect(init.tag).toBe("initiate-response");
    expect(init.negotiatedDlmsVersion).toBe(6);
    expect(init.negotiatedConformance).toBe(CLIENT_CONFORMANCE & SERVER_CONFORMANCE);
    expect(hasConformance(init.negotiatedConformance, "set")).toBe(false);
    expect(init.serverMaxReceivePduSize).toBe(1024);
    expect(init.vaaName).toBe(7);
    expect(s.isAssociated).toBe(true);
    expect(s.takeEvents()).toEqual([
      { type: "associated", clientSap: 16, mechanism: "none", conformance: init.negotiatedConformance },
    ]);
  });

  it("accepts LLS with the right password", () => {
    const aare = asAare(server().handle(aarq({ mechanism: "low", authenticationValue: PASSWORD }), 1));
    expect(aare.result).toBe("accepted");
  });

  it("rejects a wrong LLS password with authentication-failure (13) and stays unassociated", () => {
    const s = server();
    const aare = asAare(
      s.handle(aarq({ mechanism: "low", authenticationValue: new TextEncoder().encode("1234567x") }), 1),
    );
    expect(aare.result).toBe("rejected-permanent");
    expect(aare.diagnostic).toEqual({ source: "user", code: 13, name: "authentication-failure" });
    expect(s.isAssociated).toBe(false);
    expect(JSON.stringify(s.takeEvents())).not.toContain("1234567");
  });

  it("rejects a missing mechanism on an LLS SAP (12) and LLS on the public SAP (11)", () => {
    expect(asAare(server().handle(aarq(), 1)).diagnostic.code).toBe(12);
    const onPublic = asAare(server().handle(aarq({ mechanism: "low", authenticationValue: PASSWORD }), 16));
    expect(onPublic.diagnostic).toMatchObject({ code: 11, name: "authentication-mechanism-name-not-recognised" });
  });

  it("rejects an unknown client SAP and an SN application context", () => {
    expect(asAare(server().handle(aarq(), 99)).result).toBe("rejected-permanent");
    expect(asAare(server().handle(aarq({ applicationContext: "sn" }), 16)).diagnostic.code).toBe(2);
  });

  it("rejects DLMS version 5 with a ConfirmedServiceError dlms-version-too-low", () => {
    const aare = asAare(server().handle(aarq({}, { proposedDlmsVersion: 5 }), 16));
    expect(aare.result).toBe("rejected-permanent");
    expect(aare.userInformation).toMatchObject({
      tag: "confirmed-service-error",
      service: 1,
      errorClass: 6,
      errorCode: 1,
      errorName: "dlms-version-too-low",
    });
  });

  it("rejects a proposal with no common conformance bit", () => {
    const aare = asAare(server().handle(aarq({}, { proposedConformance: conformanceMask(["set"]) }), 16));
    expect(aare.userInformation).toMatchObject({ errorName: "incompatible-conformance" });
  });

  it("leaves multiple-references out when the server does not support it", () => {
    const s = server({ conformance: conformanceMask(["block-transfer-with-get-or-read", "get"]) });
    const init = asAare(s.handle(aarq(), 16)).userInformation as InitiateResponse;
    expect(hasConformance(init.negotiatedConformance, "multiple-references")).toBe(false);
    const reply = s.handle({ tag: "get-request", kind: "with-list", invoke, attributes: [attribute(VOLTAGE)] }, 16);
    expect(reply).toMatchObject({ tag: "exception-response", stateError: 1, serviceError: 2 });
  });

  it("negotiates per client SAP when the supported conformance is a function", () => {
    const withList = conformanceMask(["get", "multiple-references"]);
    const bySap = (sap: number) => (sap === 1 ? withList : conformanceMask(["get"]));
    const publicInit = asAare(server({ conformance: bySap }).handle(aarq(), 16)).userInformation as InitiateResponse;
    expect(hasConformance(publicInit.negotiatedConformance, "multiple-references")).toBe(false);
    const lls = aarq({ mechanism: "low", authenticationValue: PASSWORD });
    const llsInit = asAare(server({ conformance: bySap }).handle(lls, 1)).userInformation as InitiateResponse;
    expect(hasConformance(llsInit.negotiatedConformance, "multiple-references")).toBe(true);
  });

  it("refuses every association when told to", () => {
    const aare = asAare(server({ refuseAssociation: true }).handle(aarq(), 16));
    expect(aare.result).toBe("rejected-permanent");
  });
});

describe("ServerAssociation: GET", () => {
  it("refuses GET before association with an exception, or silence when configured", () => {
    expect(server().handle(getNormal(VOLTAGE), 16)).toMatchObject({ tag: "exception-response", stateError: 1 });
    expect(server({ beforeAssociation: "silence" }).handle(getNormal(VOLTAGE), 16)).toBeNull();
  });

  it("answers GET-Request-Normal with the model's value and echoes the invoke id", () => {
    const reply = asGetResponse(associated().handle(getNormal(VOLTAGE), 16));
    expect(reply).toEqual({
      tag: "get-response",
      kind: "normal",
      invoke,
      result: { ok: true, data: { type: "long-unsigned", value: 2301 } },
    });
  });

  it("answers an unknown object with object-undefined (4), or read-write-denied (3) when configured", () => {
    expect(asGetResponse(associated().handle(getNormal(MISSING), 16))).toMatchObject({
      result: { ok: false, error: 4 },
    });
    const denying = associated(server({ unknownObject: "read-write-denied" }));
    expect(asGetResponse(denying.handle(getNormal(MISSING), 16))).toMatchObject({ result: { ok: false, error: 3 } });
  });

  it("answers GET-with-list with one result per attribute, in order", () => {
    const request: GetRequest = {
      tag: "get-request",
      kind: "with-list",
      invoke,
      attributes: [attribute(VOLTAGE, 3), attribute(MISSING), attribute(VOLTAGE)],
    };
    const reply = asGetResponse(associated().handle(request, 16));
    expect(reply.kind === "with-list" && reply.results).toEqual([
      {
        ok: true,
        data: {
          type: "structure",
          value: [
            { type: "integer", value: -1 },
            { type: "enum", value: 35 },
          ],
        },
      },
      { ok: false, error: 4 },
      { ok: true, data: { type: "long-unsigned", value: 2301 } },
    ]);
  });

  it("serves the association's object list and partners id from 0.0.40.0.0.255", () => {
    const s = associated();
    const list = asGetResponse(s.handle(getNormal(ASSOCIATION, 2, 15), 16));
    if (list.kind !== "normal" || !list.result.ok) throw new Error("object list not served");
    const entries = (list.result.data as { value: DlmsData[] }).value;
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ value: [{ value: 3 }, { value: 0 }, { value: VOLTAGE }, expect.anything()] });
    const partners = asGetResponse(s.handle(getNormal(ASSOCIATION, 3, 15), 16));
    expect(partners).toMatchObject({ result: { ok: true, data: { value: [{ value: 16 }, { value: 1 }] } } });
  });

  it("sends a long object list in blocks no larger than the client's max PDU, reassembling to the whole list", () => {
    const maxPdu = 64;
    const model = fakeModel(20);
    const s = associated(server({ objects: model }), 16, aarq({}, { clientMaxReceivePduSize: maxPdu }));
    let reply = asGetResponse(s.handle(getNormal(ASSOCIATION, 2, 15), 16));
    const chunks: Uint8Array[] = [];
    let expectedBlock = 1;
    for (;;) {
      if (reply.kind !== "with-datablock" || !reply.result.ok) throw new Error(`unexpected ${JSON.stringify(reply)}`);
      expect(reply.blockNumber).toBe(expectedBlock);
      expect(reply.invoke).toEqual(invoke);
      // header: C4 02 invoke last block(4) choice length(1..3)
      expect(reply.result.raw.length).toBeLessThanOrEqual(maxPdu - 12);
      chunks.push(reply.result.raw);
      if (reply.lastBlock) break;
      reply = asGetResponse(s.handle({ tag: "get-request", kind: "next", invoke, blockNumber: expectedBlock }, 16));
      expectedBlock += 1;
    }
    expect(chunks.length).toBeGreaterThan(5);
    const whole = new Uint8Array(Buffer.concat(chunks));
    const association = { classId: 15, version: 1, obis: "0.0.40.0.0.255", methods: [] };
    const attributes = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) => ({ id, access: id === 7 ? 0 : 1 }));
    const entries = [{ ...association, attributes }, ...model.list()];
    expect(decodeData(whole)).toEqual(encodeObjectList(entries));
    // The transfer is over: another NEXT has nothing to continue.
    const after = asGetResponse(s.handle({ tag: "get-request", kind: "next", invoke, blockNumber: expectedBlock }, 16));
    expect(after).toMatchObject({ kind: "with-datablock", lastBlock: true, result: { ok: false, error: 16 } });
  });

  it("aborts a long GET on a wrong block number with long-get-aborted (15)", () => {
    const s = associated(server({ objects: fakeModel(20) }), 16, aarq({}, { clientMaxReceivePduSize: 64 }));
    expect(asGetResponse(s.handle(getNormal(ASSOCIATION, 2, 15), 16))).toMatchObject({
      blockNumber: 1,
      lastBlock: false,
    });
    const wrong = asGetResponse(s.handle({ tag: "get-request", kind: "next", invoke, blockNumber: 5 }, 16));
    expect(wrong).toMatchObject({ kind: "with-datablock", lastBlock: true, result: { ok: false, error: 15 } });
    const next = asGetResponse(s.handle({ tag: "get-request", kind: "next", invoke, blockNumber: 1 }, 16));
    expect(next).toMatchObject({ result: { ok: false, error: 16 } });
  });

  it("refuses a response too long for the client when block transfer was not negotiated", () => {
    const s = associated(
      server({ objects: fakeModel(20), conformance: conformanceMask(["get"]) }),
      16,
      aarq({}, { clientMaxReceivePduSize: 64 }),
    );
    expect(asGetResponse(s.handle(getNormal(ASSOCIATION, 2, 15), 16))).toMatchObject({
      kind: "normal",
      result: { ok: false, error: 250 },
    });
  });
});

describe("ServerAssociation: release", () => {
  it("answers RLRQ with RLRE and refuses GET afterwards", () => {
    const s = associated();
    expect(s.handle({ tag: "rlrq", reason: 0 }, 16)).toEqual({ tag: "rlre", reason: 0 });
    expect(s.isAssociated).toBe(false);
    expect(s.handle(getNormal(VOLTAGE), 16)).toMatchObject({ tag: "exception-response" });
    expect(s.takeEvents().map((e) => e.type)).toEqual(["associated", "released"]);
  });

  it("ignores RLRQ when release is not supported, keeping the association", () => {
    const s = associated(server({ releaseSupported: false }));
    expect(s.handle({ tag: "rlrq", reason: 0 }, 16)).toBeNull();
    expect(s.isAssociated).toBe(true);
  });

  it("forgets the association on reset (link lost)", () => {
    const s = associated();
    s.reset();
    expect(s.handle(getNormal(VOLTAGE), 16)).toMatchObject({ tag: "exception-response" });
  });
});
