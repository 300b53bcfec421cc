import { describe, expect, it } from "vitest";
import { initialRuntimeState, type MeterRuntimeState } from "../../src/poller/types.js";
import { MeterStateFlush } from "../../src/store/state-flush.js";

function state(meter: string, o: Partial<MeterRuntimeState> = {}): MeterRuntimeState {
  return initialRuntimeState(meter, { up: true, connected: true, ...o });
}

describe("MeterStateFlush", () => {
  it("writes a meter at once when it changes, a merely newer last success only every refreshMs", () => {
    const flush = new MeterStateFlush(60_000);
    flush.note(state("a", { lastSuccessTs: 1000 }));
    expect(flush.take(0)).toEqual([
      { id: "a", state: { consecutiveFailures: 0, breakerState: "closed", lastSuccess: 1000 } },
    ]);
    expect(flush.take(1)).toEqual([]); // nothing new

    flush.note(state("a", { lastSuccessTs: 11_000 }));
    expect(flush.take(5_000)).toEqual([]); // only a newer success: waits for the refresh
    flush.note(state("a", { lastSuccessTs: 21_000 }));
    expect(flush.take(60_000)).toEqual([
      { id: "a", state: { consecutiveFailures: 0, breakerState: "closed", lastSuccess: 21_000 } },
    ]);

    flush.note(state("a", { lastSuccessTs: 21_000, consecutiveFailures: 1, lastError: "no answer to SNRM" }));
    expect(flush.take(61_000)).toEqual([
      {
        id: "a",
        state: { consecutiveFailures: 1, breakerState: "closed", lastSuccess: 21_000, lastError: "no answer to SNRM" },
      },
    ]);
    flush.note(state("a", { lastSuccessTs: 21_000, consecutiveFailures: 5, breaker: "open", lastError: "x" }));
    expect(flush.take(62_000).map((r) => r.state.breakerState)).toEqual(["open"]);
  });

  it("writes everything unwritten at shutdown, and rows whose write failed again at the next flush", () => {
    const flush = new MeterStateFlush(60_000);
    flush.note(state("a", { lastSuccessTs: 1 }));
    flush.note(state("b"));
    const rows = flush.take(0);
    expect(rows.map((r) => r.id)).toEqual(["a", "b"]);
    flush.retry(rows); // the disk refused them
    flush.note(state("a", { lastSuccessTs: 2 }));
    expect(flush.take(1).map((r) => [r.id, r.state.lastSuccess])).toEqual([
      ["a", 2],
      ["b", undefined],
    ]);
    flush.note(state("a", { lastSuccessTs: 3 }));
    expect(flush.take(2)).toEqual([]);
    expect(flush.take(2, true).map((r) => [r.id, r.state.lastSuccess])).toEqual([["a", 3]]);
  });
});
