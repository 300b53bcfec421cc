// xDLMS PDUs byte for byte: GET request/response variants, ExceptionResponse, Initiate*, ConfirmedServiceError,
// plus the errors for PDUs we do not (yet) implement or that are malformed.
import { describe, expect, it } from "vitest";
import { decodeApdu, describeApdu, encodeApdu } from "../../../src/dlms/apdu/index.js";
import type { Apdu, GetRequest, GetResponse, InvokeIdAndPriority } from "../../../src/dlms/apdu/types.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { DecodeError, type DlmsErrorCode, LocalProtocolError } from "../../../src/dlms/errors.js";

const invoke1: InvokeIdAndPriority = { invokeId: 1, confirmed: true, highPriority: true };
const REGISTER = fromHex("01 01 15 19 00 FF");
const PROFILE = fromHex("01 00 63 01 00 FF");

/** The PDU encodes to exactly `hex` and `hex` decodes back to the PDU. */
function expectWire(apdu: Apdu, hex: string): void {
  expect(toHex(encodeApdu(apdu))).toBe(hex);
  expect(decodeApdu(fromHex(hex))).toEqual(apdu);
}

function expectDecodeError(hex: string, code: DlmsErrorCode, message: RegExp): void {
  let error: unknown;
  try {
    decodeApdu(fromHex(hex));
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DecodeError);
  expect((error as DecodeError).code).toBe(code);
  expect((error as DecodeError).message).toMatch(message);
}

describe("Get-Request", () => {
  it("normal with selective access (entry selector 2, a structure of parameters)", () => {
    const req: GetRequest = {
      tag: "get-request",
      kind: "normal",
      invoke: invoke1,
      attribute: {
        classId: 7,
        instanceId: PROFILE,
        attributeId: 2,
        access: {
          selector: 2,
          parameters: {
            type: "structure",
            value: [
              { type: "double-long-unsigned", value: 1 },
              { type: "double-long-unsigned", value: 10 },
              { type: "long-unsigned", value: 1 },
              { type: "long-unsigned", value: 0 },
            ],
          },
        },
      },
    };
    expectWire(req, "C0 01 C1 00 07 01 00 63 01 00 FF 02 01 02 02 04 06 00 00 00 01 06 00 00 00 0A 12 00 01 12 00 00");
    expect(describeApdu(req)).toBe("GET.req normal #1 7/1.0.99.1.0.255/2 sel=2");
  });

  it("next asks for a block number (uint32)", () => {
    expectWire({ tag: "get-request", kind: "next", invoke: invoke1, blockNumber: 0x01020304 }, "C0 02 C1 01 02 03 04");
  });

  it("with-list carries a count then each descriptor with its access flag", () => {
    const req: GetRequest = {
      tag: "get-request",
      kind: "with-list",
      invoke: { invokeId: 15, confirmed: true, highPriority: false },
      attributes: [
        { classId: 3, instanceId: REGISTER, attributeId: 2 },
        { classId: 3, instanceId: REGISTER, attributeId: 3 },
      ],
    };
    expectWire(req, "C0 03 4F 02 00 03 01 01 15 19 00 FF 02 00 00 03 01 01 15 19 00 FF 03 00");
    expect(describeApdu(req)).toBe("GET.req with-list #15 low-priority [3/1.1.21.25.0.255/2, 3/1.1.21.25.0.255/3]");
  });

  it("describes a normal request as in traces", () => {
    const req: GetRequest = {
      tag: "get-request",
      kind: "normal",
      invoke: invoke1,
      attribute: { classId: 3, instanceId: fromHex("01 00 20 07 00 FF"), attributeId: 2 },
    };
    expect(describeApdu(req)).toBe("GET.req normal #1 3/1.0.32.7.0.255/2");
  });

  it("refuses out-of-range fields instead of truncating them", () => {
    const base = {
      tag: "get-request",
      kind: "normal",
      invoke: invoke1,
      attribute: { classId: 3, instanceId: REGISTER, attributeId: 2 },
    } as const;
    expect(() => encodeApdu({ ...base, invoke: { ...invoke1, invokeId: 16 } })).toThrow(LocalProtocolError);
    expect(() =>
      encodeApdu({ ...base, attribute: { ...base.attribute, instanceId: REGISTER.subarray(0, 5) } }),
    ).toThrow(/6 bytes/);
    expect(() => encodeApdu({ ...base, attribute: { ...base.attribute, classId: 0x10000 } })).toThrow(
      LocalProtocolError,
    );
    expect(() => encodeApdu({ ...base, attribute: { ...base.attribute, attributeId: 200 } })).toThrow(
      LocalProtocolError,
    );
    expect(() => encodeApdu({ tag: "get-request", kind: "next", invoke: invoke1, blockNumber: -1 })).toThrow(
      LocalProtocolError,
    );
  });

  it("decodes a negative (manufacturer) attribute id", () => {
    expect(decodeApdu(fromHex("C0 01 C1 00 03 01 01 15 19 00 FF FE 00"))).toMatchObject({
      attribute: { attributeId: -2 },
    });
  });
});

describe("Get-Response", () => {
  it("normal with data and with a data-access-result", () => {
    expectWire(
      {
        tag: "get-response",
        kind: "normal",
        invoke: invoke1,
        result: { ok: true, data: { type: "long-unsigned", value: 0x1234 } },
      },
      "C4 01 C1 00 12 12 34",
    );
    const denied: GetResponse = {
      tag: "get-response",
      kind: "normal",
      invoke: invoke1,
      result: { ok: false, error: 4 },
    };
    expectWire(denied, "C4 01 C1 01 04");
    expect(describeApdu(denied)).toBe("GET.res normal #1 error object-undefined (4)");
  });

  it("with-datablock: last-block flag, uint32 block number, raw data as an A-XDR octet string", () => {
    const raw = Uint8Array.from({ length: 200 }, (_, i) => i);
    const block: GetResponse = {
      tag: "get-response",
      kind: "with-datablock",
      invoke: invoke1,
      lastBlock: true,
      blockNumber: 2,
      result: { ok: true, raw },
    };
    const hex = toHex(encodeApdu(block));
    expect(hex.startsWith("C4 02 C1 01 00 00 00 02 00 81 C8 00 01 02")).toBe(true);
    expect(decodeApdu(fromHex(hex))).toEqual(block);
    expect(describeApdu(block)).toBe("GET.res with-datablock #1 block=2 last 200 byte(s)");
  });

  it("with-datablock carrying a data-access-result", () => {
    expectWire(
      {
        tag: "get-response",
        kind: "with-datablock",
        invoke: invoke1,
        lastBlock: true,
        blockNumber: 7,
        result: { ok: false, error: 19 },
      },
      "C4 02 C1 01 00 00 00 07 01 13",
    );
  });

  it("with-list: one result per requested attribute, data or error", () => {
    const res: GetResponse = {
      tag: "get-response",
      kind: "with-list",
      invoke: invoke1,
      results: [
        { ok: true, data: { type: "long-unsigned", value: 12 } },
        { ok: false, error: 3 },
      ],
    };
    expectWire(res, "C4 03 C1 02 00 12 00 0C 01 03");
    expect(describeApdu(res)).toBe("GET.res with-list #1 [long-unsigned 12, error read-write-denied (3)]");
  });

  it("refuses a list count that cannot fit before allocating it", () => {
    expectDecodeError("C4 03 C1 82 FF FF 00 12 00 0C", "truncated", /65535 item/);
    expectDecodeError("C0 03 C1 05 00 03 01 01 15 19 00 FF 02 00", "truncated", /5 item/);
  });
});

describe("encodeApdu's kept writer", () => {
  const getVoltage: GetRequest = {
    tag: "get-request",
    kind: "normal",
    invoke: invoke1,
    attribute: { classId: 3, instanceId: REGISTER, attributeId: 2 },
  };

  it("every call returns its own array: a later encoding does not change an earlier one", () => {
    const a = encodeApdu({ tag: "rlrq", reason: 0 });
    const first = toHex(a);
    const b = encodeApdu(getVoltage);
    expect(toHex(a)).toBe(first);
    expect(toHex(b)).toBe("C0 01 C1 00 03 01 01 15 19 00 FF 02 00");
  });

  it("a long APDU after short ones encodes whole, and short ones after it still do", () => {
    const before = toHex(encodeApdu(getVoltage));
    const long: GetResponse = {
      tag: "get-response",
      kind: "normal",
      invoke: invoke1,
      result: { ok: true, data: { type: "octet-string", value: new Uint8Array(6000).map((_, i) => i & 0xff) } },
    };
    const bytes = encodeApdu(long);
    expect(decodeApdu(bytes)).toEqual(long);
    expect(toHex(encodeApdu(getVoltage))).toBe(before);
  });
});

describe("long PDUs", () => {
  it("encode intact whatever byte makes the output outgrow its first buffer", () => {
    for (let size = 40; size < 300; size++) {
      const res: GetResponse = {
        tag: "get-response",
        kind: "with-list",
        invoke: invoke1,
        results: [
          { ok: true, data: { type: "octet-string", value: new Uint8Array(size).fill(0xaa) } },
          { ok: true, data: { type: "double-long-unsigned", value: 0x01020304 } },
          { ok: false, error: 3 },
        ],
      };
      const bytes = encodeApdu(res);
      expect(toHex(bytes.subarray(-9)), `octet-string of ${size}`).toBe("AA 00 06 01 02 03 04 01 03");
      expect(decodeApdu(bytes)).toEqual(res);
    }
  });
});

describe("other xDLMS PDUs", () => {
  it("ExceptionResponse names its errors; invocation-counter-error carries the expected counter", () => {
    const ex = decodeApdu(fromHex("D8 01 02"));
    expect(ex).toEqual({
      tag: "exception-response",
      stateError: 1,
      stateErrorName: "service-not-allowed",
      serviceError: 2,
      serviceErrorName: "service-not-supported",
    });
    expect(toHex(encodeApdu(ex))).toBe("D8 01 02");
    expect(describeApdu(ex)).toBe("EXCEPTION service-not-allowed/service-not-supported");
    expectWire(
      {
        tag: "exception-response",
        stateError: 2,
        stateErrorName: "service-unknown",
        serviceError: 6,
        serviceErrorName: "invocation-counter-error",
        invocationCounter: 42,
      },
      "D8 02 06 00 00 00 2A",
    );
  });

  it("ConfirmedServiceError on its own", () => {
    expect(decodeApdu(fromHex("0E 01 06 03"))).toMatchObject({
      serviceName: "initiateError",
      errorClassName: "initiate",
      errorName: "pdu-size-too-short",
    });
    expect(decodeApdu(fromHex("0E 05 05 02"))).toMatchObject({
      serviceName: "read",
      errorClassName: "access",
      errorName: "object-access-violated",
    });
    expect(toHex(encodeApdu(decodeApdu(fromHex("0E 01 06 03"))))).toBe("0E 01 06 03");
  });

  it("InitiateResponse with a negotiated quality of service", () => {
    expectWire(
      {
        tag: "initiate-response",
        negotiatedQualityOfService: 5,
        negotiatedDlmsVersion: 6,
        negotiatedConformance: 0x00121d,
        serverMaxReceivePduSize: 1024,
        vaaName: 7,
      },
      "08 01 05 06 5F 1F 04 00 00 12 1D 04 00 00 07",
    );
  });

  it("refuses a conformance block that is not [APPLICATION 31] of 4 bytes", () => {
    expectDecodeError("08 00 06 5F 1E 04 00 00 12 1D 04 00 00 07", "malformed", /5F 1F/);
    expectDecodeError("08 00 06 5F 1F 05 00 00 12 1D 04 00 00 07", "malformed", /conformance length 5/);
  });
});

describe("unknown, unsupported and malformed input", () => {
  it("names known but unimplemented PDUs (ciphered, SET, ACTION) as unsupported", () => {
    expectDecodeError("C8 10 30 00 00 00 01 00", "unsupported", /glo-get-request \(tag 0xC8\)/);
    expectDecodeError("DB 08 00 00", "unsupported", /general-glo-ciphering/);
    expectDecodeError("C1 01 C1 00 03", "unsupported", /set-request/);
  });

  it("an unknown tag, an empty input and a bad CHOICE are errors, not crashes", () => {
    expectDecodeError("FF 00", "malformed", /unknown APDU tag 0xFF/);
    expectDecodeError("", "truncated", /APDU tag/);
    expectDecodeError("C0 04 C1 00", "malformed", /get-request type 4/);
    expectDecodeError("C4 01 C1 02 00", "malformed", /get-data-result choice 2/);
    expectDecodeError("C0 01 C1 00 03 01 01 15 19 00 FF 02 02", "malformed", /access-selection usage flag 2/);
    expectDecodeError("C0 02 C1 00 00", "truncated", /block-number/);
  });

  it("bytes after a complete PDU are refused by decodeApdu", () => {
    expectDecodeError("C0 02 C1 00 00 00 01 00", "malformed", /1 trailing byte\(s\) after GET\.req/);
  });
});
