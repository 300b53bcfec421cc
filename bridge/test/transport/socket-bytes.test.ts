import { describe, expect, it } from "vitest";
import { copyOut, socketChunk } from "../../src/transport/socket-bytes.js";

describe("socket bytes", () => {
  it("a small frame goes to the socket as a Buffer copy with the same bytes, independent of the frame", () => {
    const frame = Uint8Array.of(0x7e, 0xa0, 0x07, 0x03, 0x21, 0x93, 0x0f, 0x01, 0x7e);
    const chunk = socketChunk(frame);
    expect(Buffer.isBuffer(chunk)).toBe(true);
    expect([...chunk]).toEqual([...frame]);
    frame[1] = 0; // the core may reuse its array: what was handed to the socket stays as it was
    expect(chunk[1]).toBe(0xa0);
  });

  it("a Buffer, or a frame above V8's on-heap size, is written as it is", () => {
    const big = new Uint8Array(65).fill(0x55);
    expect(socketChunk(big)).toBe(big);
    const buf = Buffer.from([1, 2, 3]);
    expect(socketChunk(buf)).toBe(buf);
  });

  it("copyOut returns the first n bytes as an array of its own, for small and large reads", () => {
    const shared = Buffer.alloc(4096);
    for (const n of [1, 30, 64, 65, 2048]) {
      shared.fill(0);
      for (let i = 0; i < n; i++) shared[i] = (i * 7 + 1) & 0xff;
      const out = copyOut(shared, n);
      expect(out.length).toBe(n);
      expect(out[n - 1]).toBe(((n - 1) * 7 + 1) & 0xff);
      shared.fill(0xee); // the next read overwrites the shared buffer
      expect(out[0]).toBe(1);
    }
  });
});
