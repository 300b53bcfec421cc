// Property tests: random and damaged input never makes the wrapper deframer or link throw, hang or hoard memory.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/dlms/codec/hex.js";
import { DecodeError } from "../../../src/dlms/errors.js";
import type { LinkEvent } from "../../../src/dlms/link.js";
import { encodeWrapper, WrapperDeframer } from "../../../src/dlms/wrapper/header.js";
import { WrapperLink } from "../../../src/dlms/wrapper/link.js";

describe("wrapper properties", () => {
  it("random bytes in random chunks: only PDUs or DecodeErrors, buffer bounded by one PDU", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 20 }),
        fc.integer({ min: 8, max: 2000 }),
        (chunks, max) => {
          const d = new WrapperDeframer({ maxPduLength: max });
          let held = 0;
          for (const c of chunks) {
            d.push(c);
            held += c.length;
            for (let r = d.next(); r; r = d.next()) {
              if ("error" in r) expect(r.error).toBeInstanceOf(DecodeError);
              else expect(r.frame.payload.length).toBeLessThanOrEqual(max);
              held -= r.bytes.length;
            }
            expect(held).toBeLessThan(8 + max); // what is left is at most one incomplete PDU
          }
        },
      ),
      { numRuns: 300, seed: 21 },
    );
  });

  it("a client link never throws; after a framing error the next PDU is delivered", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (garbage) => {
        const link = new WrapperLink({ role: "client", clientWPort: 16, serverWPort: 1, maxPduLength: 1024 });
        link.connect();
        link.nextEvent();
        link.receiveData(garbage);
        const fromGarbage = drain(link);
        for (const e of fromGarbage) if (e.type === "discarded") expect(e.error).toBeInstanceOf(DecodeError);
        const last = fromGarbage.at(-1);
        const good = Uint8Array.of(0xc4, 0x01, 0xc1, 0x00);
        link.receiveData(encodeWrapper(1, 16, good));
        const apdus = drain(link).flatMap((e) => (e.type === "apdu" ? [toHex(e.apdu)] : []));
        // A framing error drops everything buffered, so the next chunk starts on a header. (Garbage that ends in
        // a plausible partial header can swallow the next PDU: the wrapper has no flag to resynchronise on.)
        const framingError =
          last?.type === "discarded" && ["bad-format", "too-large"].includes((last.error as DecodeError).code);
        if (framingError) expect(apdus).toEqual([toHex(good)]);
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});

function drain(link: WrapperLink): LinkEvent[] {
  const out: LinkEvent[] = [];
  for (let e = link.nextEvent(); e; e = link.nextEvent()) out.push(e);
  return out;
}
