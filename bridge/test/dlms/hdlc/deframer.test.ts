import { describe, expect, it } from "vitest";
import { concatBytes } from "../../../src/dlms/codec/bytes.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { encodeClientAddress, encodeServerAddress } from "../../../src/dlms/hdlc/address.js";
import { iControl } from "../../../src/dlms/hdlc/control.js";
import { type DeframerResult, HdlcDeframer } from "../../../src/dlms/hdlc/deframer.js";
import { encodeFrame, type HdlcFrame } from "../../../src/dlms/hdlc/frame.js";
import { loadVectorFrames, vectorFiles } from "../vectors.js";

/** The GET of 0.0.42.0.0.255 from u9n_hdlc_none.txt: its FCS is A1 7E, so the frame ends in 7E 7E. */
const FCS_A1_7E = fromHex("7E A0 19 03 21 76 4F DC E6 E6 00 C0 01 C2 00 01 00 00 2A 00 00 FF 02 00 A1 7E 7E");
const SNRM = fromHex("7E A0 07 03 21 93 0F 01 7E");

type Outcome = string; // "frame:<hex>" or "error:<code>"

function drain(d: HdlcDeframer): DeframerResult<HdlcFrame>[] {
  const out: DeframerResult<HdlcFrame>[] = [];
  for (let r = d.next(); r; r = d.next()) out.push(r);
  return out;
}

function outcomes(d: HdlcDeframer): Outcome[] {
  return drain(d).map((r) => ("frame" in r ? `frame:${toHex(r.bytes)}` : `error:${r.error.code}`));
}

function feed(chunks: Uint8Array[]): Outcome[] {
  const d = new HdlcDeframer();
  const out: Outcome[] = [];
  for (const c of chunks) {
    d.push(c);
    out.push(...outcomes(d));
  }
  return out;
}

/** An I-frame whose information field is full of 0x7E. */
function frameWithFlagsInData(): Uint8Array {
  const info = Uint8Array.from([0xe6, 0xe6, 0x00, 0x7e, 0x7e, 0x7e, 0x01, 0x7e, 0x7e]);
  return encodeFrame({
    dest: encodeServerAddress(1),
    src: encodeClientAddress(16),
    control: iControl(0, 0, true),
    info,
  });
}

describe("HdlcDeframer delimits frames by the length field", () => {
  it("takes the frame whose FCS is A1 7E whole, and the next frame after it", () => {
    expect(feed([concatBytes(FCS_A1_7E, SNRM)])).toEqual([`frame:${toHex(FCS_A1_7E)}`, `frame:${toHex(SNRM)}`]);
  });

  it("takes frames whose information field contains 0x7E", () => {
    const f = frameWithFlagsInData();
    expect(feed([concatBytes(f, f)])).toEqual([`frame:${toHex(f)}`, `frame:${toHex(f)}`]);
  });

  it("accepts consecutive frames sharing one flag, and idle flags between frames", () => {
    const shared = concatBytes(FCS_A1_7E, SNRM.subarray(1), SNRM.subarray(1));
    expect(feed([shared])).toEqual([`frame:${toHex(FCS_A1_7E)}`, `frame:${toHex(SNRM)}`, `frame:${toHex(SNRM)}`]);
    expect(feed([concatBytes(Uint8Array.of(0x7e, 0x7e), SNRM, Uint8Array.of(0x7e), SNRM)])).toEqual([
      `frame:${toHex(SNRM)}`,
      `frame:${toHex(SNRM)}`,
    ]);
  });

  for (const file of vectorFiles(/hdlc.*\.txt$/)) {
    it(`${file}: every chunk boundary of each direction's stream gives the same frames`, () => {
      const frames = loadVectorFrames(file);
      for (const dir of ["tx", "rx"] as const) {
        const mine = frames.filter((f) => f.dir === dir).map((f) => f.bytes);
        if (mine.length === 0) continue;
        const expected = mine.map((b) => `frame:${toHex(b)}`);
        const stream = concatBytes(...mine.slice(0, 12)); // bounded: 12 frames is plenty of boundaries
        const want = expected.slice(0, 12);
        expect(feed([stream])).toEqual(want);
        for (let cut = 1; cut < stream.length; cut++) {
          expect(feed([stream.subarray(0, cut), stream.subarray(cut)]), `cut at ${cut}`).toEqual(want);
        }
        expect(feed(Array.from(stream, (b) => Uint8Array.of(b)))).toEqual(want);
      }
    });
  }
});

describe("HdlcDeframer resynchronises after errors", () => {
  it("reports a bad FCS and still takes the next frame", () => {
    const bad = FCS_A1_7E.slice();
    bad[12] = bad[12]! ^ 0xff; // data byte
    expect(feed([concatBytes(bad, SNRM)])).toEqual(["error:bad-fcs", `frame:${toHex(SNRM)}`]);
  });

  it("reports a bad HCS as soon as the header is in, without waiting for the claimed length", () => {
    const bad = FCS_A1_7E.slice();
    bad[2] = 0xff; // length now claims 255 bytes; the HCS no longer matches
    const d = new HdlcDeframer();
    d.push(bad.subarray(0, 10));
    const first = outcomes(d);
    expect(first[0]).toBe("error:bad-hcs");
    d.push(concatBytes(bad.subarray(10), SNRM));
    expect(outcomes(d)).toContain(`frame:${toHex(SNRM)}`);
  });

  it("skips leading garbage (reported) up to the next flag", () => {
    expect(feed([concatBytes(Uint8Array.of(1, 2, 3), SNRM)])).toEqual(["error:bad-flag", `frame:${toHex(SNRM)}`]);
  });

  it("reports a non-type-3 format field and recovers", () => {
    expect(feed([concatBytes(Uint8Array.of(0x7e, 0x12, 0x34, 0x56), SNRM)])).toEqual([
      "error:bad-format",
      `frame:${toHex(SNRM)}`,
    ]);
  });

  it("recovers from a truncated frame followed by a good one", () => {
    const out = feed([concatBytes(FCS_A1_7E.subarray(0, 14), FCS_A1_7E, SNRM)]);
    expect(out.filter((o) => o.startsWith("frame:"))).toEqual([`frame:${toHex(FCS_A1_7E)}`, `frame:${toHex(SNRM)}`]);
    expect(out.filter((o) => o.startsWith("error:")).length).toBeGreaterThan(0);
  });
});

describe("HdlcDeframer memory bound", () => {
  it("garbage without flags is dropped as it arrives", () => {
    const d = new HdlcDeframer();
    for (let i = 0; i < 200; i++) {
      d.push(new Uint8Array(1000).fill(0x55));
      drain(d);
      expect(d.buffered).toBe(0);
    }
  });

  it("an incomplete frame holds at most one maximal frame", () => {
    const d = new HdlcDeframer();
    // Flag + format claiming 2047 bytes with header bytes that keep an HCS check from firing yet.
    d.push(Uint8Array.of(0x7e, 0xa7, 0xff));
    expect(drain(d)).toEqual([]);
    expect(d.buffered).toBeLessThanOrEqual(2049);
  });

  it("pushing without draining drops the oldest bytes past maxBuffered and says so", () => {
    const d = new HdlcDeframer({ maxBuffered: 4096 });
    for (let i = 0; i < 100; i++) d.push(new Uint8Array(1000).fill(0x55));
    expect(d.buffered).toBeLessThanOrEqual(4096);
    const first = d.next();
    expect(first && "error" in first && first.error.code).toBe("too-large");
  });
});

describe("HdlcDeframer memory", () => {
  it("holds no buffer between frames and only an incomplete frame's bytes while one is pending", () => {
    const d = new HdlcDeframer();
    expect(d.capacity).toBe(0);
    const two = concatBytes(SNRM, FCS_A1_7E);
    d.push(two);
    expect(outcomes(d)).toEqual([`frame:${toHex(SNRM)}`, `frame:${toHex(FCS_A1_7E)}`]);
    expect(d.capacity).toBe(0); // parsed in place, nothing kept
    d.push(FCS_A1_7E.subarray(0, 10));
    expect(outcomes(d)).toEqual([]);
    expect(d.capacity).toBeGreaterThanOrEqual(10);
    expect(d.capacity).toBeLessThanOrEqual(256);
    d.push(FCS_A1_7E.subarray(10));
    expect(outcomes(d)).toEqual([`frame:${toHex(FCS_A1_7E)}`]);
    expect(d.capacity).toBe(0); // released once drained
  });

  it("copies a pending incomplete frame out of the caller's chunk before asking for more", () => {
    const d = new HdlcDeframer();
    const chunk = FCS_A1_7E.slice(0, 12);
    d.push(chunk);
    expect(outcomes(d)).toEqual([]);
    chunk.fill(0); // the caller may reuse its chunk once next() returned null
    d.push(FCS_A1_7E.subarray(12));
    expect(outcomes(d)).toEqual([`frame:${toHex(FCS_A1_7E)}`]);
  });
});
