// The client's mutual exclusion: one operation at a time, in call order, whatever the earlier ones did.
import { describe, expect, it } from "vitest";
import { Exclusive } from "../../src/client/exclusive.js";

/** An operation that settles when the test says so, recording when it starts and ends. */
function controlled(log: string[], name: string, running: { now: number; max: number }) {
  let settle!: { resolve: (v: string) => void; reject: (e: Error) => void };
  const operation = () => {
    log.push(`start ${name}`);
    running.now++;
    running.max = Math.max(running.max, running.now);
    return new Promise<string>((resolve, reject) => {
      settle = { resolve, reject };
    }).finally(() => {
      running.now--;
      log.push(`end ${name}`);
    });
  };
  return { operation, settle: () => settle };
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe("Exclusive", () => {
  it("starts an operation at once, synchronously, when free", () => {
    const lock = new Exclusive();
    let started = false;
    void lock.run(async () => {
      started = true;
    });
    expect(started).toBe(true);
  });

  it("runs operations one at a time in call order, a rejected one not blocking the next", async () => {
    const lock = new Exclusive();
    const log: string[] = [];
    const running = { now: 0, max: 0 };
    const ops = ["a", "b", "c", "d"].map((name) => controlled(log, name, running));
    const errors: unknown[] = [];
    const results = ops.map((op) => lock.run(op.operation, (e) => errors.push(e)));
    const outcomes = Promise.allSettled(results);
    await flush();
    expect(log).toEqual(["start a"]);
    expect(lock.pending).toBe(4);

    // A caller arriving while the turn is being handed on still queues behind the parked ones.
    ops[0]!.settle().reject(new Error("a failed"));
    const late = controlled(log, "e", running);
    const lateResult = lock.run(late.operation);
    await flush();
    expect(log).toEqual(["start a", "end a", "start b"]);
    expect(errors).toEqual([new Error("a failed")]);

    ops[1]!.settle().resolve("b");
    await flush();
    ops[2]!.settle().reject(new Error("c failed"));
    await flush();
    ops[3]!.settle().resolve("d");
    await flush();
    late.settle().resolve("e");
    expect(await lateResult).toBe("e");
    expect((await outcomes).map((o) => (o.status === "fulfilled" ? o.value : (o.reason as Error).message))).toEqual([
      "a failed",
      "b",
      "c failed",
      "d",
    ]);
    expect(log).toEqual([
      "start a",
      "end a",
      "start b",
      "end b",
      "start c",
      "end c",
      "start d",
      "end d",
      "start e",
      "end e",
    ]);
    expect(running.max).toBe(1);
    expect(lock.pending).toBe(0);
  });

  it("an operation that throws synchronously rejects its caller and frees the lock", async () => {
    const lock = new Exclusive();
    const first = lock.run((): Promise<never> => {
      throw new Error("sync");
    });
    const second = lock.run(async () => "next");
    await expect(first).rejects.toThrow("sync");
    await expect(second).resolves.toBe("next");
    expect(lock.pending).toBe(0);
    // Free again: the next operation starts synchronously.
    let started = false;
    void lock.run(async () => {
      started = true;
    });
    expect(started).toBe(true);
  });
});
