// The grid checks the e2e scenarios rely on: a late poll is not a missed slot, a real gap is.
import { describe, expect, it } from "vitest";
import { missingSlots, slotIndices } from "./harness.js";

const I = 1000;
const at = (...ts: number[]) => ts.map((t) => ({ meter: "m", ts: t, values: {} }));

describe("slotIndices / missingSlots", () => {
  it("places readings on consecutive slots when the first poll started 600 ms late", () => {
    const readings = at(10_600, 11_020, 12_010, 13_030, 14_005);
    expect(slotIndices(readings, I)).toEqual([0, 1, 2, 3, 4]);
    expect(missingSlots(readings, I)).toBe(0);
  });

  it("counts a slot without a reading, also across the grid's wrap-around phase", () => {
    expect(missingSlots(at(10_950, 11_990, 14_020, 15_000), I)).toBe(1);
    expect(missingSlots(at(20_010, 21_020, 22_030, 25_010), I)).toBe(2);
  });

  it("keeps two readings in one slot visible (more readings than slots)", () => {
    expect(missingSlots(at(10_010, 10_500, 11_010), I)).toBe(-1);
  });
});
