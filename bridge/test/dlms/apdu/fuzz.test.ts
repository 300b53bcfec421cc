// Property tests: whatever bytes arrive, decoding either yields an APDU that re-encodes to an equivalent one, or
// fails with a DecodeError; never a RangeError/TypeError. And generated PDUs survive encode → decode unchanged.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildAare, buildAarq } from "../../../src/dlms/apdu/builders.js";
import { exceptionResponse } from "../../../src/dlms/apdu/exception.js";
import { decodeApdu, encodeApdu } from "../../../src/dlms/apdu/index.js";
import { confirmedServiceError } from "../../../src/dlms/apdu/initiate.js";
import type {
  Apdu,
  AttributeRequest,
  GetDataResult,
  InitiateRequest,
  InitiateResponse,
  InvokeIdAndPriority,
} from "../../../src/dlms/apdu/types.js";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { DecodeError } from "../../../src/dlms/errors.js";
import { vectorFiles } from "../vectors.js";
import { ApduTagsForFuzzing } from "./fuzz-tags.js";
import { loadVectorApdus } from "./vector-apdus.js";

const RUNS = 2000;

/** Decoding never throws anything but DecodeError, and what decodes re-encodes to the same value. */
function checkDecode(bytes: Uint8Array): void {
  let apdu: Apdu;
  try {
    apdu = decodeApdu(bytes);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return;
  }
  expect(decodeApdu(encodeApdu(apdu))).toEqual(apdu);
}

const captured = vectorFiles(/\.txt$/).flatMap((f) => loadVectorApdus(f).map((a) => a.apdu));

const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), value: fc.constant(0) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), value: fc.constant(0) }),
);

function mutate(
  base: Uint8Array,
  ms: { kind: "flip" | "cut" | "insert" | "delete"; at: number; value: number }[],
): Uint8Array {
  let out = Array.from(base);
  for (const m of ms) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    if (m.kind === "flip") out[at] = m.value;
    else if (m.kind === "cut") out = out.slice(0, at);
    else if (m.kind === "insert") out.splice(at, 0, m.value);
    else out.splice(at, 1);
  }
  return Uint8Array.from(out);
}

describe("decoding hostile input", () => {
  it("random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), checkDecode), { numRuns: RUNS });
  });

  it("random bodies behind every tag we know", () => {
    const tagged = fc
      .tuple(fc.constantFrom(...ApduTagsForFuzzing), fc.uint8Array({ maxLength: 64 }))
      .map(([tag, body]) => Uint8Array.of(tag, ...body));
    fc.assert(fc.property(tagged, checkDecode), { numRuns: RUNS });
  });

  it("mutated captured APDUs", () => {
    expect(captured.length).toBeGreaterThan(50);
    const mutated = fc
      .tuple(fc.constantFrom(...captured), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([b, ms]) => mutate(b, ms));
    fc.assert(fc.property(mutated, checkDecode), { numRuns: RUNS * 2 });
  });
});

// ---- generated PDUs ----

const invoke: fc.Arbitrary<InvokeIdAndPriority> = fc.record({
  invokeId: fc.integer({ min: 0, max: 15 }),
  confirmed: fc.boolean(),
  highPriority: fc.boolean(),
});
const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const conformance = fc.integer({ min: 0, max: 0xff_ffff });

const qualityOfService = fc.option(fc.integer({ min: -128, max: 127 }), { nil: undefined });

const initiateRequest = fc
  .record({
    dedicatedKey: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: undefined }),
    responseAllowed: fc.boolean(),
    proposedQualityOfService: qualityOfService,
    proposedDlmsVersion: u8,
    proposedConformance: conformance,
    clientMaxReceivePduSize: u16,
  })
  .map((r): InitiateRequest => ({ tag: "initiate-request", ...withoutUndefined(r) }));

const initiateResponse = fc
  .record({
    negotiatedQualityOfService: qualityOfService,
    negotiatedDlmsVersion: u8,
    negotiatedConformance: conformance,
    serverMaxReceivePduSize: u16,
    vaaName: u16,
  })
  .map((r): InitiateResponse => ({ tag: "initiate-response", ...withoutUndefined(r) }));

/** Optional members are absent, not undefined, in decoded PDUs. */
function withoutUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const scalar: fc.Arbitrary<DlmsData> = fc.oneof(
  fc.constant<DlmsData>({ type: "null-data" }),
  u16.map((value): DlmsData => ({ type: "long-unsigned", value })),
  fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }).map((value): DlmsData => ({ type: "double-long", value })),
  fc.uint8Array({ maxLength: 300 }).map((value): DlmsData => ({ type: "octet-string", value })),
  fc
    .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 20 })
    .map((value): DlmsData => ({ type: "visible-string", value })),
);
const data: fc.Arbitrary<DlmsData> = fc.oneof(
  scalar,
  fc.array(scalar, { maxLength: 5 }).map((value): DlmsData => ({ type: "structure", value })),
);

const attribute: fc.Arbitrary<AttributeRequest> = fc
  .record({
    classId: u16,
    instanceId: fc.uint8Array({ minLength: 6, maxLength: 6 }),
    attributeId: fc.integer({ min: -128, max: 127 }),
    access: fc.option(fc.record({ selector: u8, parameters: data }), { nil: undefined }),
  })
  .map(({ access, ...a }) => (access ? { ...a, access } : a));

const getDataResult: fc.Arbitrary<GetDataResult> = fc.oneof(
  data.map((d): GetDataResult => ({ ok: true, data: d })),
  u8.map((error): GetDataResult => ({ ok: false, error })),
);

const apdu: fc.Arbitrary<Apdu> = fc.oneof(
  fc.tuple(invoke, attribute).map(([i, a]): Apdu => ({ tag: "get-request", kind: "normal", invoke: i, attribute: a })),
  fc.tuple(invoke, u32).map(([i, n]): Apdu => ({ tag: "get-request", kind: "next", invoke: i, blockNumber: n })),
  fc
    .tuple(invoke, fc.array(attribute, { maxLength: 4 }))
    .map(([i, a]): Apdu => ({ tag: "get-request", kind: "with-list", invoke: i, attributes: a })),
  fc
    .tuple(invoke, getDataResult)
    .map(([i, r]): Apdu => ({ tag: "get-response", kind: "normal", invoke: i, result: r })),
  fc
    .tuple(invoke, fc.array(getDataResult, { maxLength: 4 }))
    .map(([i, r]): Apdu => ({ tag: "get-response", kind: "with-list", invoke: i, results: r })),
  fc
    .tuple(
      invoke,
      fc.boolean(),
      u32,
      fc.oneof(
        fc.uint8Array({ maxLength: 600 }).map((raw) => ({ ok: true as const, raw })),
        u8.map((error) => ({ ok: false as const, error })),
      ),
    )
    .map(
      ([i, lastBlock, blockNumber, result]): Apdu => ({
        tag: "get-response",
        kind: "with-datablock",
        invoke: i,
        lastBlock,
        blockNumber,
        result,
      }),
    ),
  fc
    .record({
      low: fc.boolean(),
      password: fc.uint8Array({ minLength: 1, maxLength: 40 }),
      conformance,
      maxReceivePduSize: u16,
    })
    .map(
      ({ low, password, ...rest }): Apdu =>
        buildAarq(low ? { mechanism: "low", password, ...rest } : { mechanism: "none", ...rest }),
    ),
  fc
    .record({
      result: fc.constantFrom("accepted", "rejected-permanent", "rejected-transient" as const),
      source: fc.constantFrom("user", "provider" as const),
      code: u8,
      conformance,
      maxReceivePduSize: u16,
    })
    .map(({ source, code, ...rest }): Apdu => buildAare({ diagnostic: { source, code }, ...rest })),
  fc
    .option(u8, { nil: undefined })
    .map((reason): Apdu => (reason === undefined ? { tag: "rlrq" } : { tag: "rlrq", reason })),
  fc.tuple(u8, initiateResponse).map(([reason, userInformation]): Apdu => ({ tag: "rlre", reason, userInformation })),
  initiateRequest,
  initiateResponse,
  fc.tuple(u8, u8, u8).map(([service, errorClass, code]): Apdu => confirmedServiceError(service, errorClass, code)),
  fc.tuple(u8, u8, u32).map(([state, service, counter]): Apdu => exceptionResponse(state, service, counter)),
);

describe("generated PDUs", () => {
  it("encode → decode returns the same value", () => {
    fc.assert(
      fc.property(apdu, (a) => {
        expect(decodeApdu(encodeApdu(a))).toEqual(a);
      }),
      { numRuns: RUNS },
    );
  });
});
