// ReplyWaiter's single lazily armed timer: each wait times out at its own deadline, the timer is re-armed rather
// than recreated per wait, and it keeps the process alive only while a wait is pending.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TimeoutError } from "../../src/client/errors.js";
import { type ClientEvent, ReplyWaiter } from "../../src/client/waiter.js";
import { LazyText } from "../../src/client/what.js";

const CONNECTED: ClientEvent = { type: "connected" };
const acceptConnected = (e: ClientEvent) => e.type === "connected";

/** Resolves to "pending" while `p` has not settled (after flushing microtasks). */
async function state(p: Promise<unknown>): Promise<string> {
  return Promise.race([
    p.then(
      () => "resolved",
      () => "rejected",
    ),
    new Promise<string>((resolve) => setImmediate(() => resolve("pending"))),
  ]);
}

describe("ReplyWaiter with fake timers", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ["setTimeout", "clearTimeout", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("a wait with a shorter deadline after a longer one times out at its own deadline", async () => {
    const waiter = new ReplyWaiter(1000);
    const first = waiter.wait({ step: "get", what: "first", match: acceptConnected });
    vi.advanceTimersByTime(100);
    expect(waiter.offer(CONNECTED)).toBe(true);
    await expect(first).resolves.toBe(true);
    // The timer armed for the first wait would fire at +1000: the second wait needs it at +100+200.
    const second = waiter.wait({ step: "get", what: "second", match: acceptConnected, timeoutMs: 200 });
    const outcome = second.catch((e: unknown) => e);
    vi.advanceTimersByTime(199);
    expect(await state(second)).toBe("pending");
    vi.advanceTimersByTime(1);
    const error = await outcome;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).message).toBe("no answer to second (timeout 200 ms, step get)");
    expect(Date.now()).toBe(1_000_000 + 300);
  });

  it("a timer armed for an earlier wait fires early for the next one and re-arms for the rest", async () => {
    const waiter = new ReplyWaiter(1000);
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const first = waiter.wait({ step: "get", what: "first", match: acceptConnected });
    vi.advanceTimersByTime(600);
    waiter.offer(CONNECTED);
    await first;
    const second = waiter.wait({ step: "get", what: "second", match: acceptConnected });
    const outcome = second.catch((e: unknown) => e);
    vi.advanceTimersByTime(400); // the timer of the first wait fires: the second one has 600 ms left
    expect(await state(second)).toBe("pending");
    expect(waiter.timerState).toBe("ref");
    vi.advanceTimersByTime(599);
    expect(await state(second)).toBe("pending");
    vi.advanceTimersByTime(1);
    expect(((await outcome) as Error).message).toBe("no answer to second (timeout 1000 ms, step get)");
    expect(Date.now()).toBe(1_000_000 + 1600);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(2); // the first arming and the one re-arming
    setTimeoutSpy.mockRestore();
  });

  it("does not set a timer per wait while requests keep coming", async () => {
    const waiter = new ReplyWaiter(1000);
    const setTimeoutSpy = vi.spyOn(globalThis, "setTimeout");
    const clearTimeoutSpy = vi.spyOn(globalThis, "clearTimeout");
    for (let i = 0; i < 100; i++) {
      const w = waiter.wait({ step: "get", what: "GET", match: acceptConnected });
      vi.advanceTimersByTime(5);
      waiter.offer(CONNECTED);
      await w;
    }
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    expect(clearTimeoutSpy).not.toHaveBeenCalled();
    setTimeoutSpy.mockRestore();
    clearTimeoutSpy.mockRestore();
  });

  it("holds the process alive only while a wait is pending; dispose clears the timer", async () => {
    const waiter = new ReplyWaiter(1000);
    expect(waiter.timerState).toBe("none");
    const w = waiter.wait({ step: "get", what: "GET", match: acceptConnected });
    expect(waiter.timerState).toBe("ref");
    waiter.offer(CONNECTED);
    await w;
    expect(waiter.timerState).toBe("unref"); // still armed, but an idle client lets a CLI exit
    const again = waiter.waitTolerant({ step: "release", what: "RLRQ", match: acceptConnected });
    expect(waiter.timerState).toBe("ref");
    waiter.failWith((p) => new Error(`failed ${p.what}`));
    await expect(again).rejects.toThrow("failed RLRQ");
    expect(waiter.timerState).toBe("unref");
    vi.advanceTimersByTime(1000); // fires with nothing pending: gone until the next wait
    expect(waiter.timerState).toBe("none");
    void waiter.waitTolerant({ step: "release", what: "DISC", match: acceptConnected });
    waiter.dispose();
    expect(waiter.timerState).toBe("none");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tolerant waits resolve undefined at their deadline; timeoutError and frame counts are kept", async () => {
    const waiter = new ReplyWaiter(500);
    const tolerant = waiter.waitTolerant({ step: "release", what: "RLRQ", match: acceptConnected });
    vi.advanceTimersByTime(500);
    await expect(tolerant).resolves.toBeUndefined();

    const custom = waiter.wait({
      step: "get",
      what: "GET x",
      match: acceptConnected,
      timeoutMs: 50,
      timeoutError: (seen) => new Error(`deadline: ${seen.frames} frame(s), discarded "${seen.discarded}"`),
    });
    const customOutcome = custom.catch((e: unknown) => e);
    waiter.noteFrame();
    waiter.noteFrame();
    waiter.noteFrame();
    waiter.noteDiscarded("bad-fcs");
    vi.advanceTimersByTime(50);
    expect(((await customOutcome) as Error).message).toBe('deadline: 2 frame(s), discarded "1 bad-fcs"');

    const plain = waiter.wait({ step: "get", what: "GET y", match: acceptConnected });
    const plainOutcome = plain.catch((e: unknown) => e);
    waiter.noteFrame();
    waiter.noteDiscarded("bad-fcs");
    waiter.noteDiscarded("bad-fcs");
    waiter.noteDiscarded("bad-address");
    vi.advanceTimersByTime(500);
    expect(((await plainOutcome) as Error).message).toBe(
      "no answer to GET y (timeout 500 ms, step get; frames discarded meanwhile: 2 bad-fcs, 1 bad-address)",
    );
  });
});

describe("ReplyWaiter descriptions", () => {
  it("builds a lazy description only when a message needs it, and once", async () => {
    let built = 0;
    class Counted extends LazyText {
      protected build(): string {
        built++;
        return "GET 1.0.32.7.0.255 class 3 attr 2";
      }
    }
    const waiter = new ReplyWaiter(1000);
    const ok = waiter.wait({ step: "get", what: new Counted(), match: acceptConnected });
    waiter.offer(CONNECTED);
    await ok;
    expect(built).toBe(0);
    const failing = waiter.wait({ step: "get", what: new Counted(), match: acceptConnected });
    expect(waiter.waitingFor).toBe("GET 1.0.32.7.0.255 class 3 attr 2");
    waiter.failWith((p) => new Error(`lost during ${p.what}; again ${p.what}`));
    await expect(failing).rejects.toThrow(
      "lost during GET 1.0.32.7.0.255 class 3 attr 2; again GET 1.0.32.7.0.255 class 3 attr 2",
    );
    expect(built).toBe(1);
    waiter.dispose();
  });

  it("with real timers, an idle waiter's timer does not hold the process", async () => {
    const waiter = new ReplyWaiter(60_000);
    const w = waiter.wait({ step: "get", what: "GET", match: acceptConnected });
    expect(waiter.timerState).toBe("ref");
    waiter.offer(CONNECTED);
    await w;
    expect(waiter.timerState).toBe("unref");
    waiter.dispose();
    expect(waiter.timerState).toBe("none");
  });
});
