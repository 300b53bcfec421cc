import { describe, expect, it } from "vitest";
import { createMemoryPair } from "../../src/transport/memory.js";
import type { TransportEvent } from "../../src/transport/types.js";

function collect(t: { onEvent(h: (e: TransportEvent) => void): void }): TransportEvent[] {
  const events: TransportEvent[] = [];
  t.onEvent((e) => events.push(e));
  return events;
}

const tick = () => new Promise((r) => setImmediate(r));

describe("createMemoryPair", () => {
  it("delivers bytes to the peer asynchronously, in order, as copies", async () => {
    const [a, b] = createMemoryPair();
    const got = collect(b);
    await a.open();
    await b.open();
    const sent = new Uint8Array([1, 2, 3]);
    a.write(sent);
    a.write(new Uint8Array([4]));
    sent[0] = 9; // the sender reusing its buffer must not change what was sent
    expect(got).toEqual([]);
    await tick();
    expect(got).toEqual([
      { type: "data", bytes: new Uint8Array([1, 2, 3]) },
      { type: "data", bytes: new Uint8Array([4]) },
    ]);
    expect(a.written).toEqual([new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
  });

  it("closing one end emits closed on both, with an error on the peer, and refuses further writes", async () => {
    const [a, b] = createMemoryPair();
    const onA = collect(a);
    const onB = collect(b);
    await a.open();
    await b.open();
    a.close();
    a.close(); // idempotent
    await tick();
    expect(onA).toEqual([{ type: "closed" }]);
    expect(onB).toHaveLength(1);
    expect(onB[0]).toMatchObject({ type: "closed", error: { kind: "closed" } });
    expect(() => b.write(new Uint8Array([1]))).toThrow(/closed/);
    await expect(a.open()).rejects.toThrow(/closed/);
  });
});
