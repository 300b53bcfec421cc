import { describe, expect, it } from "vitest";
import { ScalerCache, type ScalerUnit } from "../../src/client/reads.js";

const unit = (scaler: number): ScalerUnit => Object.freeze({ scaler, unitCode: 35, unit: "V" });

describe("ScalerCache", () => {
  it("finds, replaces and lists its pairs in insertion order, below and past the size where a Map takes over", () => {
    const cache = new ScalerCache();
    const units = Array.from({ length: 40 }, (_, i) => unit(i - 20));
    for (let i = 0; i < 40; i++) {
      cache.set(`3:1.0.${i}.7.0.255`, units[i]!);
      // Every pair set so far is still found, whichever representation holds it now.
      for (let j = 0; j <= i; j += 7) expect(cache.get(`3:1.0.${j}.7.0.255`)).toBe(units[j]);
      expect(cache.size).toBe(i + 1);
    }
    expect(cache.has("3:1.0.99.7.0.255")).toBe(false);
    expect(cache.get("3:1.0.99.7.0.255")).toBeUndefined();
    const replaced = unit(3);
    cache.set("3:1.0.5.7.0.255", replaced);
    expect(cache.get("3:1.0.5.7.0.255")).toBe(replaced);
    expect(cache.size).toBe(40);
    expect([...cache.entries()].map(([key]) => key)).toEqual(units.map((_, i) => `3:1.0.${i}.7.0.255`));

    const small = new ScalerCache();
    small.set("a", units[0]!);
    small.set("b", units[1]!);
    small.set("a", replaced);
    expect([...small.entries()]).toEqual([
      ["a", replaced],
      ["b", units[1]],
    ]);
  });
});
