// ACTION-Request/Response normal (62056-5-3), as used by HLS pass 3/4: bytes laid out field by field.
import { describe, expect, it } from "vitest";
import { decodeApdu, describeApdu, encodeApdu } from "../../../src/dlms/apdu/index.js";
import type { ActionRequest, ActionResponse } from "../../../src/dlms/apdu/types.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";

const F_STOC = fromHex("10000000011A52FE7DD3E72748973C1E28"); // Green Book Table 43 f(StoC)

describe("ACTION normal", () => {
  it("reply_to_HLS_authentication request: C3 01 invoke, class 15, 0.0.40.0.0.255, method 1, octet-string", () => {
    const req: ActionRequest = {
      tag: "action-request",
      kind: "normal",
      invoke: { invokeId: 1, confirmed: true, highPriority: true },
      method: { classId: 15, instanceId: fromHex("0000280000FF"), methodId: 1 },
      parameters: { type: "octet-string", value: F_STOC },
    };
    const bytes = encodeApdu(req);
    expect(toHex(bytes, "")).toBe(`C301C1000F0000280000FF010109 11${toHex(F_STOC, "")}`.replace(" ", ""));
    expect(decodeApdu(bytes)).toEqual(req);
    expect(describeApdu(req)).toBe("ACTION.req normal #1 15/0.0.40.0.0.255/m1 octet-string");
  });
  it("response with return parameters, and without", () => {
    const withData: ActionResponse = {
      tag: "action-response",
      kind: "normal",
      invoke: { invokeId: 1, confirmed: true, highPriority: true },
      result: 0,
      returnParameters: { ok: true, data: { type: "octet-string", value: F_STOC } },
    };
    expect(toHex(encodeApdu(withData), "")).toBe(`C701C100010009 11${toHex(F_STOC, "")}`.replace(" ", ""));
    expect(decodeApdu(encodeApdu(withData))).toEqual(withData);
    const refused: ActionResponse = { ...withData, result: 250 };
    delete refused.returnParameters;
    expect(toHex(encodeApdu(refused), "")).toBe("C701C1FA00");
    expect(decodeApdu(fromHex("C701C1FA00"))).toEqual(refused);
  });
  it("refuses kinds other than normal and bad optional flags", () => {
    expect(() => decodeApdu(fromHex("C302C1"))).toThrow(/only normal/);
    expect(() => decodeApdu(fromHex("C701C10002"))).toThrow(/usage flag 2/);
  });
});
