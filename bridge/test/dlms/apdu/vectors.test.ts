// Every APDU of the captured conversations (two independent clients against an independent server) decodes to
// the values the capture shows and re-encodes to the captured bytes exactly.
import { describe, expect, it } from "vitest";
import { buildAare, buildAarq } from "../../../src/dlms/apdu/builders.js";
import { conformanceNames } from "../../../src/dlms/apdu/conformance.js";
import { dataAccessResultName } from "../../../src/dlms/apdu/data-access-result.js";
import { decodeApdu, decodeApduLenient, encodeApdu } from "../../../src/dlms/apdu/index.js";
import type { Aare, Aarq, Apdu, GetRequest, GetResponse } from "../../../src/dlms/apdu/types.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { DecodeError } from "../../../src/dlms/errors.js";
import { vectorFiles } from "../vectors.js";
import { apdusOf, loadVectorApdus } from "./vector-apdus.js";

const GURUX_CLOCK_REPLY_LINE = 83; // the server appends 18 bytes after the clock value

function decodeAs<T extends Apdu["tag"]>(bytes: Uint8Array, tag: T): Extract<Apdu, { tag: T }> {
  const apdu = decodeApdu(bytes);
  expect(apdu.tag).toBe(tag);
  return apdu as Extract<Apdu, { tag: T }>;
}

describe("captured conversations", () => {
  const files = vectorFiles(/\.txt$/).filter((f) => loadVectorApdus(f).length > 0);
  it("cover HDLC and wrapper captures of both clients", () => expect(files.length).toBeGreaterThanOrEqual(7));
  for (const file of files) {
    it(`${file}: every APDU decodes and re-encodes to the captured bytes`, () => {
      const apdus = loadVectorApdus(file).filter(
        (a) => !(file === "gurux_hdlc_none.txt" && a.line === GURUX_CLOCK_REPLY_LINE),
      );
      for (const { dir, apdu, line } of apdus) {
        expect(toHex(encodeApdu(decodeApdu(apdu))), `${dir} line ${line}`).toBe(toHex(apdu));
      }
    });
  }
});

describe("AARQ", () => {
  it("no authentication (u9n): LN context, calling AP title, InitiateRequest", () => {
    const aarq = decodeAs(apdusOf("u9n_hdlc_none.txt", "tx")[0]!, "aarq");
    expect(aarq).toEqual<Aarq>({
      tag: "aarq",
      applicationContext: "ln",
      callingApTitle: fromHex("75 74 69 E7 66 3C E3 6E"),
      userInformation: {
        tag: "initiate-request",
        responseAllowed: true,
        proposedDlmsVersion: 6,
        proposedConformance: 0x20525f,
        clientMaxReceivePduSize: 0xffff,
      },
    });
  });

  it("low-level security (u9n): mechanism 2.16.756.5.8.2.1 and the password as calling-authentication-value", () => {
    const aarq = decodeAs(apdusOf("u9n_hdlc_low.txt", "tx")[0]!, "aarq");
    expect(aarq.mechanism).toBe("low");
    expect(new TextDecoder().decode(aarq.authenticationValue)).toBe("Gurux");
  });

  it("buildAarq reproduces the captured LLS AARQ byte for byte", () => {
    const captured = apdusOf("u9n_hdlc_low.txt", "tx")[0]!;
    const aarq = buildAarq({
      mechanism: "low",
      password: new TextEncoder().encode("Gurux"),
      conformance: 0x20525f,
      maxReceivePduSize: 0xffff,
      callingApTitle: fromHex("75 74 69 09 F0 5D F4 15"),
    });
    expect(toHex(encodeApdu(aarq))).toBe(toHex(captured));
  });

  it("buildAarq reproduces the Gurux client's AARQ (no AP title, no authentication)", () => {
    const captured = apdusOf("gurux_wrapper_none.txt", "tx")[0]!;
    const aarq = buildAarq({ mechanism: "none", conformance: 0x401e5d, maxReceivePduSize: 0xffff });
    expect(toHex(encodeApdu(aarq))).toBe(toHex(captured));
  });
});

describe("AARE", () => {
  it("accepted: negotiated conformance get+set and max PDU 512 (u9n none)", () => {
    const aare = decodeAs(apdusOf("u9n_hdlc_none.txt", "rx")[0]!, "aare");
    expect(aare).toEqual<Aare>({
      tag: "aare",
      applicationContext: "ln",
      result: "accepted",
      diagnostic: { source: "user", code: 0, name: "null" },
      userInformation: {
        tag: "initiate-response",
        negotiatedDlmsVersion: 6,
        negotiatedConformance: 0x000018,
        serverMaxReceivePduSize: 512,
        vaaName: 7,
      },
    });
    expect(conformanceNames(0x000018)).toEqual(["get", "set"]);
  });

  it("accepted for LLS grants more services (u9n low)", () => {
    const aare = decodeAs(apdusOf("u9n_hdlc_low.txt", "rx")[0]!, "aare");
    const ui = aare.userInformation;
    expect(ui?.tag === "initiate-response" && conformanceNames(ui.negotiatedConformance)).toEqual([
      "block-transfer-with-get-or-read",
      "multiple-references",
      "get",
      "set",
      "selective-access",
      "action",
    ]);
  });

  it("wrong password: rejected-permanent, user diagnostic 13 authentication-failure", () => {
    const aare = decodeAs(apdusOf("u9n_hdlc_badpassword.txt", "rx")[0]!, "aare");
    expect(aare.result).toBe("rejected-permanent");
    expect(aare.diagnostic).toEqual({ source: "user", code: 13, name: "authentication-failure" });
  });

  it("buildAare reproduces the server's accepting AARE byte for byte", () => {
    const captured = apdusOf("u9n_hdlc_none.txt", "rx")[0]!;
    const aare = buildAare({
      result: "accepted",
      diagnostic: { source: "user", code: 0 },
      conformance: 0x18,
      maxReceivePduSize: 512,
    });
    expect(toHex(encodeApdu(aare))).toBe(toHex(captured));
  });
});

describe("GET", () => {
  it("GET-Request-Normal of 1.1.21.25.0.255 attribute 2 encodes to the captured bytes", () => {
    const req: GetRequest = {
      tag: "get-request",
      kind: "normal",
      invoke: { invokeId: 0, confirmed: true, highPriority: true },
      attribute: { classId: 3, instanceId: fromHex("01 01 15 19 00 FF"), attributeId: 2 },
    };
    expect(toHex(encodeApdu(req))).toBe("C0 01 C0 00 03 01 01 15 19 00 FF 02 00");
    expect(toHex(apdusOf("u9n_hdlc_none.txt", "tx")[1]!)).toBe("C0 01 C0 00 03 01 01 15 19 00 FF 02 00");
  });

  it("an object the meter lacks: data-access-result 3 read-write-denied", () => {
    const res = decodeAs(apdusOf("u9n_hdlc_unknown_obis.txt", "rx")[1]!, "get-response");
    expect(res).toEqual<GetResponse>({
      tag: "get-response",
      kind: "normal",
      invoke: { invokeId: 0, confirmed: true, highPriority: true },
      result: { ok: false, error: 3 },
    });
    expect(dataAccessResultName(3)).toBe("read-write-denied");
  });

  it("register value and scaler_unit {-2, Wh}", () => {
    const [, value, scalerUnit] = apdusOf("u9n_hdlc_none.txt", "rx").map((b) => decodeApdu(b));
    expect(value).toMatchObject({ kind: "normal", result: { ok: true, data: { type: "long-unsigned", value: 12 } } });
    expect(scalerUnit).toMatchObject({
      kind: "normal",
      result: {
        ok: true,
        data: {
          type: "structure",
          value: [
            { type: "integer", value: -2 },
            { type: "enum", value: 30 },
          ],
        },
      },
    });
  });

  it("block transfer (Gurux, segmented HDLC): blocks 1..9, only the last flagged, each asked for by GET-Request-Next", () => {
    const rx = apdusOf("gurux_hdlc_none.txt", "rx").map((b) => decodeApduLenient(b).apdu);
    const tx = apdusOf("gurux_hdlc_none.txt", "tx").map((b) => decodeApdu(b));
    const blocks = rx.filter(
      (a): a is Extract<GetResponse, { kind: "with-datablock" }> =>
        a.tag === "get-response" && a.kind === "with-datablock",
    );
    expect(blocks.map((b) => b.blockNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(blocks.map((b) => b.lastBlock)).toEqual([false, false, false, false, false, false, false, false, true]);
    expect(blocks[0]!.result).toMatchObject({ ok: true });
    expect(blocks[0]!.result.ok && blocks[0]!.result.raw.length).toBe(0x1da);
    const nexts = tx.filter((a) => a.tag === "get-request" && a.kind === "next");
    expect(nexts.map((a) => a.tag === "get-request" && a.kind === "next" && a.blockNumber)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it("the same first block arrives identically over HDLC segments and over the wrapper", () => {
    expect(toHex(apdusOf("gurux_hdlc_none.txt", "rx")[1]!)).toBe(toHex(apdusOf("gurux_wrapper_none.txt", "rx")[1]!));
  });

  it("a reply with bytes after the value: decodeApdu refuses it, decodeApduLenient returns value and the rest", () => {
    const clock = loadVectorApdus("gurux_hdlc_none.txt").find((a) => a.line === GURUX_CLOCK_REPLY_LINE)!.apdu;
    expect(() => decodeApdu(clock)).toThrow(DecodeError);
    expect(() => decodeApdu(clock)).toThrow(/18 trailing byte\(s\)/);
    const { apdu, trailing } = decodeApduLenient(clock);
    expect(apdu).toMatchObject({ kind: "normal", result: { ok: true, data: { type: "octet-string" } } });
    expect(trailing.length).toBe(18);
  });
});

describe("release", () => {
  it("RLRQ and RLRE with reason normal", () => {
    expect(decodeApdu(apdusOf("u9n_hdlc_none.txt", "tx").at(-1)!)).toEqual({ tag: "rlrq", reason: 0 });
    expect(decodeApdu(apdusOf("u9n_hdlc_none.txt", "rx").at(-1)!)).toEqual({ tag: "rlre", reason: 0 });
  });
});
