import { describe, expect, it } from "vitest";
import { decodeGetDataResultList, splitForPdu } from "../../src/client/get-list.js";
import { maskSecret } from "../../src/client/secret-mask.js";
import { encodeApdu } from "../../src/dlms/apdu/index.js";
import type { AttributeRequest } from "../../src/dlms/apdu/types.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("maskSecret", () => {
  it("masks every occurrence and leaves the input untouched", () => {
    const frame = Uint8Array.from([1, ...bytes("pw"), 2, ...bytes("pw")]);
    const masked = maskSecret(frame, bytes("pw"));
    expect(Array.from(masked)).toEqual([1, 0x2a, 0x2a, 2, 0x2a, 0x2a]);
    expect(Array.from(frame)).toEqual([1, ...bytes("pw"), 2, ...bytes("pw")]);
  });

  it("returns the same frame when there is nothing to mask", () => {
    const frame = Uint8Array.from([1, 2, 3]);
    expect(maskSecret(frame, bytes("xyz"))).toBe(frame);
    expect(maskSecret(frame, undefined)).toBe(frame);
  });
});

describe("splitForPdu", () => {
  const attrs: AttributeRequest[] = Array.from({ length: 10 }, (_, i) => ({
    classId: 3,
    instanceId: parseObis(`1.0.${i}.7.0.255`),
    attributeId: 2,
  }));
  const size = (r: Parameters<typeof encodeApdu>[0]) => encodeApdu(r).length;

  it.each([30, 64, 100, 1000])("keeps order and never exceeds a %i-byte PDU", (max) => {
    const chunks = splitForPdu(attrs, max, size);
    expect(chunks.flat()).toEqual(attrs);
    for (const chunk of chunks) {
      const encoded = size({
        tag: "get-request",
        kind: "with-list",
        invoke: { invokeId: 0, confirmed: true, highPriority: true },
        attributes: chunk,
      });
      expect(encoded).toBeLessThanOrEqual(max);
    }
  });

  it("puts everything in one request when it fits", () => {
    expect(splitForPdu(attrs, 1000, size)).toHaveLength(1);
  });
});

describe("decodeGetDataResultList", () => {
  it("decodes data and data-access-results in order", () => {
    expect(decodeGetDataResultList(Uint8Array.from([2, 0, 0x11, 7, 1, 3]))).toEqual([
      { ok: true, data: { type: "unsigned", value: 7 } },
      { ok: false, error: 3 },
    ]);
  });

  it("rejects a bad choice and trailing bytes with a DecodeError", () => {
    expect(() => decodeGetDataResultList(Uint8Array.from([1, 2, 0]))).toThrow(/choice 2/);
    expect(() => decodeGetDataResultList(Uint8Array.from([1, 1, 3, 9]))).toThrow(/trailing/);
  });
});
