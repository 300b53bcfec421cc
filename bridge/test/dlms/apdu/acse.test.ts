// ACSE edge cases beyond the captures: optional and unknown BER elements, length forms, rejects without
// user-information, ciphered contents, and that the LLS password never leaks into errors or traces.
import { describe, expect, it } from "vitest";
import { buildAare, buildAarq } from "../../../src/dlms/apdu/builders.js";
import { decodeApdu, describeApdu, encodeApdu } from "../../../src/dlms/apdu/index.js";
import type { Aare, Aarq, Apdu, Rlre, Rlrq } from "../../../src/dlms/apdu/types.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { DecodeError, type DlmsErrorCode } from "../../../src/dlms/errors.js";

/** BER element as hex with its (short or 0x81) length computed. */
function tlv(tag: number, ...content: string[]): string {
  const body = fromHex(content.join(" "));
  const len = body.length < 0x80 ? [body.length] : [0x81, body.length];
  return toHex(Uint8Array.of(tag, ...len, ...body));
}

const LN_CONTEXT = tlv(0xa1, "06 07 60 85 74 05 08 01 01");
const INITIATE_REQUEST = "01 00 00 00 06 5F 1F 04 00 40 1E 5D FF FF";
const INITIATE_RESPONSE = "08 00 06 5F 1F 04 00 00 00 18 02 00 00 07";
const userInformation = (xdlms: string) => tlv(0xbe, tlv(0x04, xdlms));
const GURUX_AARQ = tlv(0x60, LN_CONTEXT, userInformation(INITIATE_REQUEST));

function decodeError(hex: string): DecodeError {
  try {
    decodeApdu(fromHex(hex));
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error("expected a DecodeError");
}

function expectDecodeError(hex: string, code: DlmsErrorCode, message?: RegExp): void {
  const e = decodeError(hex);
  expect(e.code).toBe(code);
  if (message) expect(e.message).toMatch(message);
}

const roundTrip = (a: Apdu) => decodeApdu(encodeApdu(a));

describe("AARQ decoding", () => {
  it("skips protocol-version, AE qualifiers, implementation-information and unknown elements", () => {
    const rich = tlv(
      0x60,
      "80 02 07 80",
      LN_CONTEXT,
      tlv(0xa7, "02 01 05"),
      tlv(0xbd, "01 02 03 04"),
      "BF 81 05 02 AA BB", // a multi-byte tag ([133])
      userInformation(INITIATE_REQUEST),
    );
    expect(decodeApdu(fromHex(rich))).toEqual(decodeApdu(fromHex(GURUX_AARQ)));
  });

  it("accepts the long BER length form", () => {
    const long = `60 81 ${GURUX_AARQ.slice(3)}`;
    expect(decodeApdu(fromHex(long))).toEqual(decodeApdu(fromHex(GURUX_AARQ)));
  });

  it("refuses indefinite and over-long BER lengths, and lengths past the end of input", () => {
    expectDecodeError(`60 80 ${GURUX_AARQ.slice(6)} 00 00`, "malformed", /indefinite/);
    expectDecodeError("60 83 00 00 1D", "too-large");
    expectDecodeError(GURUX_AARQ.slice(0, -3), "truncated");
    expectDecodeError(`60 1D A1 7F ${GURUX_AARQ.slice(12)}`, "truncated");
    expectDecodeError(`60 1D BF 81 82 83 84 00 ${GURUX_AARQ.slice(6)}`, "too-large", /BER tag longer/);
  });

  it("needs application-context-name and user-information", () => {
    expectDecodeError(tlv(0x60, userInformation(INITIATE_REQUEST)), "malformed", /without application-context-name/);
    expectDecodeError(tlv(0x60, LN_CONTEXT), "malformed", /without user-information/);
  });

  it("names an unknown application context by its OID", () => {
    expectDecodeError(
      tlv(0x60, tlv(0xa1, "06 07 60 85 74 05 08 01 09"), userInformation(INITIATE_REQUEST)),
      "unsupported",
      /2\.16\.756\.5\.8\.1\.9/,
    );
  });

  it("keeps a ciphered InitiateRequest (glo-initiateRequest) as bytes for the security layer", () => {
    const aarq = decodeApdu(fromHex(tlv(0x60, LN_CONTEXT, userInformation("21 03 30 00 00"))));
    expect(aarq).toMatchObject({ tag: "aarq", userInformation: { tag: "ciphered-user-information" } });
    expect(toHex((aarq as Aarq & { userInformation: { bytes: Uint8Array } }).userInformation.bytes)).toBe(
      "21 03 30 00 00",
    );
  });

  it("refuses an InitiateResponse where an InitiateRequest belongs", () => {
    expectDecodeError(
      tlv(0x60, LN_CONTEXT, userInformation(INITIATE_RESPONSE)),
      "malformed",
      /initiate-response is not allowed/,
    );
  });

  it("refuses trailing bytes inside user-information", () => {
    expectDecodeError(tlv(0x60, LN_CONTEXT, userInformation(`${INITIATE_REQUEST} 00`)), "malformed", /trailing/);
  });
});

describe("AARQ encoding", () => {
  it("LLS: sender-acse-requirements, mechanism-name and the password as GraphicString, in tag order", () => {
    const aarq = buildAarq({
      mechanism: "low",
      password: fromHex("31 32 33"),
      conformance: 0x00_1e_1d,
      maxReceivePduSize: 1024,
    });
    expect(toHex(encodeApdu(aarq))).toBe(
      tlv(
        0x60,
        LN_CONTEXT,
        "8A 02 07 80",
        "8B 07 60 85 74 05 08 02 01",
        tlv(0xac, "80 03 31 32 33"),
        userInformation("01 00 00 00 06 5F 1F 04 00 00 1E 1D 04 00"),
      ),
    );
  });

  it("encodes the ciphered LN context and HLS mechanism OIDs (for later security suites)", () => {
    const aarq = {
      ...buildAarq({ mechanism: "none", conformance: 0x10, maxReceivePduSize: 256 }),
      applicationContext: "ln-ciphered" as const,
      mechanism: "high-gmac" as const,
    };
    const hex = toHex(encodeApdu(aarq));
    expect(hex).toContain("A1 09 06 07 60 85 74 05 08 01 03");
    expect(hex).toContain("8B 07 60 85 74 05 08 02 05");
    expect(roundTrip(aarq)).toEqual(aarq);
  });

  it("InitiateRequest options: dedicated key, response-allowed false, quality of service", () => {
    const aarq = buildAarq({ mechanism: "none", conformance: 0x10, maxReceivePduSize: 256 });
    aarq.userInformation = {
      ...aarq.userInformation,
      dedicatedKey: fromHex("00 11 22 33"),
      responseAllowed: false,
      proposedQualityOfService: 2,
    };
    expect(toHex(encodeApdu(aarq))).toContain("04 15 01 01 04 00 11 22 33 01 00 01 02 06 5F 1F 04 00 00 00 10 01 00");
    expect(roundTrip(aarq)).toEqual(aarq);
  });

  it("low-level security without a password is refused", () => {
    expect(() => buildAarq({ mechanism: "low", conformance: 0x10, maxReceivePduSize: 256 })).toThrow(/password/);
  });
});

describe("the LLS password stays secret", () => {
  const password = "S3cr3tPw";
  const secretHex = toHex(new TextEncoder().encode(password), "");
  const aarq = buildAarq({
    mechanism: "low",
    password: new TextEncoder().encode(password),
    conformance: 0x1d,
    maxReceivePduSize: 512,
  });

  it("describeApdu shows that a value is present, never the value", () => {
    const line = describeApdu(aarq);
    expect(line).toContain("mechanism=low");
    expect(line).toContain("auth-value=<hidden>");
    expect(line).not.toContain(password);
    expect(line.toUpperCase()).not.toContain(secretHex);
  });

  it("decode errors of an AARQ carrying it do not quote it", () => {
    const bytes = encodeApdu(aarq);
    for (let cut = 1; cut < bytes.length; cut++) {
      const hex = toHex(bytes.subarray(0, cut));
      const e = decodeError(hex);
      expect(e.message).not.toContain(password);
      expect(e.message.replace(/\s/g, "").toUpperCase()).not.toContain(secretHex);
    }
  });
});

describe("AARE", () => {
  const rejectedNoUserInformation = tlv(0x61, LN_CONTEXT, "A2 03 02 01 01", "A3 05 A1 03 02 01 0D");

  it("a rejecting AARE may come without user-information", () => {
    expect(decodeApdu(fromHex(rejectedNoUserInformation))).toEqual<Aare>({
      tag: "aare",
      applicationContext: "ln",
      result: "rejected-permanent",
      diagnostic: { source: "user", code: 13, name: "authentication-failure" },
    });
  });

  it("buildAare for a wrong password encodes exactly that", () => {
    const aare = buildAare({ result: "rejected-permanent", diagnostic: { source: "user", code: 13 } });
    expect(toHex(encodeApdu(aare))).toBe(rejectedNoUserInformation);
  });

  it("decodes a provider diagnostic", () => {
    const aare = decodeApdu(fromHex(tlv(0x61, LN_CONTEXT, "A2 03 02 01 02", "A3 05 A2 03 02 01 02")));
    expect(aare).toMatchObject({
      result: "rejected-transient",
      diagnostic: { source: "provider", code: 2, name: "no-common-acse-version" },
    });
  });

  it("carries a ConfirmedServiceError when the InitiateRequest is refused", () => {
    const hex = tlv(0x61, LN_CONTEXT, "A2 03 02 01 01", "A3 05 A1 03 02 01 01", userInformation("0E 01 06 01"));
    const aare = buildAare({ result: "rejected-permanent", diagnostic: { source: "user", code: 1 }, initiateError: 1 });
    expect(toHex(encodeApdu(aare))).toBe(hex);
    expect(decodeApdu(fromHex(hex))).toMatchObject({
      diagnostic: { name: "no-reason-given" },
      userInformation: {
        tag: "confirmed-service-error",
        service: 1,
        serviceName: "initiateError",
        errorClass: 6,
        errorClassName: "initiate",
        errorCode: 1,
        errorName: "dlms-version-too-low",
      },
    });
    expect(describeApdu(aare)).toContain("initiateError: initiate/dlms-version-too-low");
  });

  it("round-trips responding AP title, mechanism and authentication value (HLS shape), hiding the value", () => {
    const aare: Aare = {
      ...buildAare({
        result: "accepted",
        diagnostic: { source: "user", code: 14 },
        conformance: 0x1d,
        maxReceivePduSize: 1024,
      }),
      respondingApTitle: fromHex("4D 4D 4D 00 00 BC 61 4E"),
      mechanism: "high-gmac",
      respondingAuthenticationValue: fromHex("01 02 03 04 05 06 07 08"),
    };
    const hex = toHex(encodeApdu(aare));
    expect(hex).toContain(
      "A4 0A 04 08 4D 4D 4D 00 00 BC 61 4E 88 02 07 80 89 07 60 85 74 05 08 02 05 AA 0A 80 08 01 02",
    );
    expect(roundTrip(aare)).toEqual(aare);
    expect(describeApdu(aare)).not.toContain("0102030405060708");
  });

  it("refuses a result outside 0..2 and a missing result", () => {
    expectDecodeError(tlv(0x61, LN_CONTEXT, "A2 03 02 01 03"), "malformed", /association result 3/);
    expectDecodeError(tlv(0x61, LN_CONTEXT), "malformed", /without result/);
  });

  it("buildAare refuses to accept without the negotiated parameters", () => {
    expect(() => buildAare({ result: "accepted", diagnostic: { source: "user", code: 0 } })).toThrow(/conformance/);
  });
});

describe("RLRQ / RLRE", () => {
  it("an empty release request is valid", () => {
    expect(decodeApdu(fromHex("62 00"))).toEqual({ tag: "rlrq" });
    expect(toHex(encodeApdu({ tag: "rlre" }))).toBe("63 00");
  });

  it("round-trip with reason and user-information", () => {
    const rlrq: Rlrq = {
      tag: "rlrq",
      reason: 0,
      userInformation: decodeApdu(fromHex(INITIATE_REQUEST)) as Rlrq["userInformation"],
    };
    expect(toHex(encodeApdu(rlrq))).toBe(tlv(0x62, "80 01 00", userInformation(INITIATE_REQUEST)));
    expect(roundTrip(rlrq)).toEqual(rlrq);
    const rlre: Rlre = {
      tag: "rlre",
      reason: 1,
      userInformation: decodeApdu(fromHex(INITIATE_RESPONSE)) as Rlre["userInformation"],
    };
    expect(toHex(encodeApdu(rlre))).toBe(tlv(0x63, "80 01 01", userInformation(INITIATE_RESPONSE)));
    expect(roundTrip(rlre)).toEqual(rlre);
    expect(describeApdu(rlre)).toMatch(/^RLRE reason=not-finished InitiateResponse/);
  });
});
