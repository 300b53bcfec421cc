// Property tests: anything we encode decodes back unchanged; any bytes either decode or fail with a DecodeError.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeData, encodeData, readData, readLength, writeLength } from "../../../src/dlms/axdr/index.js";
import { ByteReader } from "../../../src/dlms/codec/reader.js";
import { ByteWriter } from "../../../src/dlms/codec/writer.js";
import { DecodeError } from "../../../src/dlms/errors.js";
import { dlmsData } from "./arbitrary.js";

/** Decodes, or returns the DecodeError; any other exception fails the property. */
function tryDecode(bytes: Uint8Array) {
  try {
    return { ok: true as const, data: decodeData(bytes) };
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return { ok: false as const, error: e };
  }
}

describe("A-XDR properties", () => {
  it("encode -> decode returns the same value", () => {
    fc.assert(
      fc.property(dlmsData, (d) => {
        expect(decodeData(encodeData(d))).toEqual(d);
      }),
      { numRuns: 400 },
    );
  });

  it("readData consumes exactly the encoding, whatever follows it", () => {
    fc.assert(
      fc.property(dlmsData, fc.uint8Array({ maxLength: 8 }), (d, tail) => {
        const enc = encodeData(d);
        const buf = new Uint8Array(enc.length + tail.length);
        buf.set(enc);
        buf.set(tail, enc.length);
        const r = new ByteReader(buf);
        readData(r);
        expect(r.offset).toBe(enc.length);
      }),
      { numRuns: 200 },
    );
  });

  it("random bytes decode or fail with a DecodeError, and what decodes re-encodes to the same value", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const result = tryDecode(bytes);
        if (result.ok) expect(decodeData(encodeData(result.data))).toEqual(result.data);
      }),
      { numRuns: 3000 },
    );
  });

  it("mutated and truncated encodings decode or fail with a DecodeError", () => {
    const mutation = fc.record({
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      cut: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(dlmsData, mutation, (d, { flips, cut }) => {
        const bytes = encodeData(d);
        if (bytes.length === 0) return;
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        const mutated = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
        const result = tryDecode(mutated);
        if (result.ok) expect(decodeData(encodeData(result.data))).toEqual(result.data);
      }),
      { numRuns: 1500 },
    );
  });

  it("hostile lengths fail fast instead of allocating", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0x01, 0x02, 0x04, 0x09, 0x0a, 0x0c),
        fc.integer({ min: 2 ** 20, max: 2 ** 32 - 1 }),
        (tag, n) => {
          const w = new ByteWriter();
          w.writeBytes([tag]);
          writeLength(w, n);
          w.writeBytes([0, 0, 0, 0]);
          const result = tryDecode(w.toBytes());
          // Refused at the length field itself (tag + at most 5 length bytes), not after reading elements.
          expect(result.ok).toBe(false);
          if (!result.ok) {
            expect(result.error.code).toBe("truncated");
            expect(result.error.offset).toBeLessThanOrEqual(6);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("lengths round-trip over the whole 32-bit range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
        const w = new ByteWriter(1);
        writeLength(w, n);
        expect(readLength(new ByteReader(w.toBytes()))).toBe(n);
      }),
    );
  });
});
