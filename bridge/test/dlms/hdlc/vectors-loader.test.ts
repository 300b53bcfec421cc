import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/dlms/codec/hex.js";
import { loadVectorFrames, vectorFiles } from "../vectors.js";

describe("loadVectorFrames", () => {
  it("splits the u9n HDLC capture into its 14 frames, each with both flags", () => {
    const frames = loadVectorFrames("u9n_hdlc_none.txt");
    expect(frames).toHaveLength(14);
    expect(toHex(frames[0]!.bytes)).toBe("7E A0 07 03 21 93 0F 01 7E");
    expect(frames[0]!.dir).toBe("tx");
    expect(frames[1]!.dir).toBe("rx");
    for (const f of frames) {
      expect(f.bytes[0]).toBe(0x7e);
      expect(f.bytes[f.bytes.length - 1]).toBe(0x7e);
    }
  });

  it("splits wrapper captures per PDU using the header length", () => {
    const pdus = loadVectorFrames("u9n_wrapper_none.txt");
    expect(pdus).toHaveLength(8);
    for (const p of pdus) expect(p.bytes.length).toBe(8 + ((p.bytes[6]! << 8) | p.bytes[7]!));
  });

  it("finds HDLC and wrapper captures", () => {
    expect(vectorFiles(/hdlc.*\.txt$/).length).toBeGreaterThanOrEqual(6);
    expect(vectorFiles(/wrapper.*\.txt$/).length).toBe(2);
  });
});
