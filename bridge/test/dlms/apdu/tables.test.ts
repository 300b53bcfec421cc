// Conformance bits, invoke ids and the name tables traces and errors rely on.
import { describe, expect, it } from "vitest";
import {
  ConformanceBit,
  conformanceMask,
  conformanceNames,
  DEFAULT_CLIENT_CONFORMANCE,
  hasConformance,
} from "../../../src/dlms/apdu/conformance.js";
import { dataAccessResultName } from "../../../src/dlms/apdu/data-access-result.js";
import {
  acseDiagnosticName,
  exceptionServiceErrorName,
  serviceErrorClassName,
  serviceErrorName,
} from "../../../src/dlms/apdu/diagnostics.js";
import { decodeApdu, encodeApdu } from "../../../src/dlms/apdu/index.js";
import {
  decodeInvokeIdAndPriority,
  encodeInvokeIdAndPriority,
  InvokeIdCounter,
} from "../../../src/dlms/apdu/invoke.js";
import type { InitiateRequest } from "../../../src/dlms/apdu/types.js";
import { toHex } from "../../../src/dlms/codec/hex.js";
import { LocalProtocolError } from "../../../src/dlms/errors.js";

describe("conformance", () => {
  it("bit 0 is the most significant bit of the 24-bit block on the wire", () => {
    const ir: InitiateRequest = {
      tag: "initiate-request",
      responseAllowed: true,
      proposedDlmsVersion: 6,
      proposedConformance: conformanceMask(["general-protection", "action"]),
      clientMaxReceivePduSize: 0x400,
    };
    expect(toHex(encodeApdu(ir))).toBe("01 00 00 00 06 5F 1F 04 00 40 00 01 04 00");
  });

  it("decodes the Gurux server's LLS grant to its names and back", () => {
    const names = conformanceNames(0x00121d);
    expect(names).toEqual([
      "block-transfer-with-get-or-read",
      "multiple-references",
      "get",
      "set",
      "selective-access",
      "action",
    ]);
    expect(conformanceMask(names)).toBe(0x00121d);
    expect(hasConformance(0x00121d, "multiple-references")).toBe(true);
    expect(hasConformance(0x000018, "multiple-references")).toBe(false);
  });

  it("numbers the bits as the Green Book does", () => {
    expect(ConformanceBit).toMatchObject({
      "general-block-transfer": 2,
      "attribute0-supported-with-get": 10,
      "data-notification": 16,
      get: 19,
      action: 23,
    });
    expect(Object.values(ConformanceBit).sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it("the default client proposal", () => {
    expect(conformanceNames(DEFAULT_CLIENT_CONFORMANCE)).toEqual([
      "priority-mgmt-supported",
      "attribute0-supported-with-get",
      "block-transfer-with-get-or-read",
      "multiple-references",
      "get",
      "set",
      "selective-access",
      "action",
    ]);
  });

  it("an unknown name is a programming error", () => {
    expect(() => conformanceMask(["gett"])).toThrow(LocalProtocolError);
    expect(() => hasConformance(0, "gett")).toThrow(/gett/);
  });
});

describe("invoke-id-and-priority", () => {
  it("packs id, service class and priority", () => {
    expect(encodeInvokeIdAndPriority({ invokeId: 0, confirmed: true, highPriority: true })).toBe(0xc0);
    expect(encodeInvokeIdAndPriority({ invokeId: 5, confirmed: true, highPriority: false })).toBe(0x45);
    expect(encodeInvokeIdAndPriority({ invokeId: 15, confirmed: false, highPriority: true })).toBe(0x8f);
    expect(decodeInvokeIdAndPriority(0x41)).toEqual({ invokeId: 1, confirmed: true, highPriority: false });
    expect(decodeInvokeIdAndPriority(0xb2)).toEqual({ invokeId: 2, confirmed: false, highPriority: true }); // reserved bits ignored
  });

  it("counter cycles 0..15 and wraps", () => {
    const counter = new InvokeIdCounter();
    const ids = Array.from({ length: 34 }, () => counter.next().invokeId);
    expect(ids.slice(0, 17)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0]);
    expect(ids.slice(32)).toEqual([0, 1]);
  });

  it("counter hands out the configured class and priority, and ids that always encode", () => {
    const counter = new InvokeIdCounter({ highPriority: false, start: 14 });
    const first = counter.next();
    expect(first).toEqual({ invokeId: 14, confirmed: true, highPriority: false });
    for (let i = 0; i < 40; i++) expect(() => encodeInvokeIdAndPriority(counter.next())).not.toThrow();
  });

  it("the invoke byte on the wire follows the counter (GET #15 then #0)", () => {
    const counter = new InvokeIdCounter({ start: 15 });
    const get = (invoke: ReturnType<InvokeIdCounter["next"]>) =>
      encodeApdu({ tag: "get-request", kind: "next", invoke, blockNumber: 1 })[2];
    expect(get(counter.next())).toBe(0xcf);
    expect(get(counter.next())).toBe(0xc0);
    expect(decodeApdu(Uint8Array.of(0xc0, 0x02, 0xcf, 0, 0, 0, 1))).toMatchObject({ invoke: { invokeId: 15 } });
  });
});

describe("names", () => {
  it("data-access-result", () => {
    expect([0, 3, 4, 14, 19, 250].map(dataAccessResultName)).toEqual([
      "success",
      "read-write-denied",
      "object-undefined",
      "data-block-unavailable",
      "data-block-number-invalid",
      "other-reason",
    ]);
    expect(dataAccessResultName(77)).toBe("unknown-77");
  });

  it("ACSE diagnostics by source", () => {
    expect(acseDiagnosticName("user", 13)).toBe("authentication-failure");
    expect(acseDiagnosticName("user", 11)).toBe("authentication-mechanism-name-not-recognised");
    expect(acseDiagnosticName("provider", 2)).toBe("no-common-acse-version");
    expect(acseDiagnosticName("provider", 13)).toBe("unknown-13");
  });

  it("service errors", () => {
    expect(serviceErrorClassName(6)).toBe("initiate");
    expect(serviceErrorName(6, 4)).toBe("refused-by-the-VDE-Handler");
    expect(serviceErrorName(42, 1)).toBe("unknown-1");
    expect(exceptionServiceErrorName(4)).toBe("pdu-too-long");
  });
});
