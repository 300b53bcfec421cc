// Property tests: whatever bytes arrive, the deframer and the links only ever surface DecodeErrors as values
// (never throw), always return, keep memory bounded, and recover the good frames around a damaged one.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { concatBytes } from "../../../src/dlms/codec/bytes.js";
import { toHex } from "../../../src/dlms/codec/hex.js";
import { DecodeError, DlmsError } from "../../../src/dlms/errors.js";
import { HdlcDeframer } from "../../../src/dlms/hdlc/deframer.js";
import { decodeFrame } from "../../../src/dlms/hdlc/frame.js";
import { HdlcLink } from "../../../src/dlms/hdlc/link.js";
import { loadVectorFrames, vectorFiles } from "../vectors.js";
import { collect, discards, shuttle, side, take } from "./pair.js";

const VECTOR_FRAMES = vectorFiles(/hdlc.*\.txt$/).flatMap((f) => loadVectorFrames(f).map((v) => v.bytes));
const MAX_HELD = 2049; // one maximal frame (2047 + flags) is the most an undrained frame can hold

/** Splits bytes at the given cut points (taken modulo the length). */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  return out;
}

/** Feeds chunks, drains after each; returns the frames (hex) and checks every result's shape as it goes. */
function runDeframer(chunks: Uint8Array[]): string[] {
  const d = new HdlcDeframer();
  const frames: string[] = [];
  let total = 0;
  for (const c of chunks) {
    d.push(c);
    total += c.length;
    let results = 0;
    for (let r = d.next(); r; r = d.next()) {
      if ("error" in r) expect(r.error).toBeInstanceOf(DecodeError);
      else {
        expect(() => decodeFrame(r.bytes)).not.toThrow();
        frames.push(toHex(r.bytes));
      }
      results++;
      expect(results).toBeLessThanOrEqual(total + 1); // every result consumes at least one byte: no livelock
    }
    expect(d.buffered).toBeLessThanOrEqual(MAX_HELD);
  }
  return frames;
}

const mutation = fc.record({
  kind: fc.constantFrom("flip", "delete", "insert", "set7e"),
  at: fc.nat(),
  value: fc.integer({ min: 0, max: 255 }),
});

function mutate(frame: Uint8Array, m: { kind: string; at: number; value: number }): Uint8Array {
  const at = m.at % frame.length;
  const b = Array.from(frame);
  if (m.kind === "flip") b[at] = b[at]! ^ (m.value || 1);
  else if (m.kind === "delete") b.splice(at, 1);
  else if (m.kind === "insert") b.splice(at, 0, m.value);
  else b[at] = b[at] === 0x7e ? 0x7d : 0x7e;
  return Uint8Array.from(b);
}

describe("HdlcDeframer properties", () => {
  it("random bytes in random chunks: only frames or DecodeErrors, bounded buffer, always returns", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        runDeframer(chunked(bytes, cuts));
      }),
      { numRuns: 300, seed: 4711 },
    );
  });

  it("random bytes rich in flags and type-3 format bytes behave the same", () => {
    const byte = fc.oneof(
      fc.constant(0x7e),
      fc.constantFrom(0xa0, 0xa8, 0x07, 0x03, 0x21),
      fc.integer({ min: 0, max: 255 }),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        runDeframer(chunked(Uint8Array.from(bytes), cuts));
      }),
      { numRuns: 300, seed: 1234 },
    );
  });

  it("one damaged vector frame costs only itself: all others come out, in order", () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.integer({ min: 3, max: 8 }),
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (start, count, mutations, cuts) => {
          const frames = Array.from({ length: count }, (_, i) => VECTOR_FRAMES[(start + i) % VECTOR_FRAMES.length]!);
          const victim = 1 + (start % (count - 2));
          const damaged = mutations.reduce((f, m) => mutate(f, m), frames[victim]!);
          const stream = concatBytes(...frames.map((f, i) => (i === victim ? damaged : f)));
          const got = runDeframer(chunked(stream, cuts));
          const want = frames.filter((_, i) => i !== victim).map((f) => toHex(f));
          // The victim may still come out if the damage left it valid (e.g. its opening flag deleted: the
          // previous closing flag then opens it), but only in its own place.
          const withoutVictim =
            got.length === want.length + 1 ? [...got.slice(0, victim), ...got.slice(victim + 1)] : got;
          expect(withoutVictim).toEqual(want);
        },
      ),
      { numRuns: 400, seed: 99 },
    );
  });
});

describe("HdlcLink properties", () => {
  const roles = ["client", "server"] as const;

  it("never throws on random or mutated input, in any state; problems surface as discarded DlmsErrors", () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc
        .tuple(fc.nat(), fc.array(mutation, { maxLength: 3 }))
        .map(([i, ms]) => ms.reduce((f, m) => mutate(f, m), VECTOR_FRAMES[i % VECTOR_FRAMES.length]!)),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...roles),
        fc.boolean(),
        fc.array(input, { maxLength: 12 }),
        (role, connect, inputs) => {
          const link = new HdlcLink({ role, clientAddress: 16, serverAddress: { logical: 1 } });
          if (connect && role === "client") link.connect();
          for (const bytes of inputs) {
            link.receiveData(bytes);
            for (let e = link.nextEvent(); e; e = link.nextEvent()) {
              if (e.type === "discarded") expect(e.error).toBeInstanceOf(DlmsError);
            }
            for (const f of link.takeOutgoing()) expect(() => decodeFrame(f)).not.toThrow();
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it("a connected pair survives garbage injected between exchanges", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 }), (garbage) => {
        const client = side(new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } }));
        const server = side(new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 } }));
        client.link.connect();
        shuttle(client, server);
        for (const [i, g] of garbage.entries()) {
          server.link.receiveData(g);
          client.link.receiveData(g);
          collect(server);
          collect(client);
          // Any frame a garbage run happened to provoke (e.g. an RR) is dropped, like a line error would.
          server.link.takeOutgoing();
          client.link.takeOutgoing();
          const request = Uint8Array.from({ length: 50 + i * 40 }, (_, k) => k);
          client.link.sendApdu(request);
          shuttle(client, server);
          const got = take(server, "apdu");
          expect(got.map((e) => toHex(e.apdu))).toEqual([toHex(request)]);
          server.link.sendApdu(request);
          shuttle(client, server);
          expect(take(client, "apdu")).toHaveLength(1);
        }
        for (const e of discards(client).concat(discards(server))) expect(e).toMatch(/Error/);
      }),
      { numRuns: 100, seed: 3 },
    );
  });
});
