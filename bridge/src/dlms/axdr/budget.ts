// Bound on how many values one decode may produce. Normal A-XDR spends at least one byte per value, so the input
// size bounds it already; a compact-array does not (a structure of null-data fields costs nothing per field), so
// without a budget a few kilobytes could expand into millions of JS objects. One budget covers a whole reply.
import type { ByteReader } from "../codec/reader.js";
import { DecodeError } from "../errors.js";

/** Values (array/structure elements at every level, compact-array elements included) one decode may produce. */
export const MAX_VALUES = 1 << 18;

export interface ValueBudget {
  left: number;
  readonly max: number;
}

export function valueBudget(max = MAX_VALUES): ValueBudget {
  return { left: max, max };
}

/** Takes `n` values from the budget, or fails before anything is allocated. */
export function spendValues(budget: ValueBudget, n: number, r: ByteReader): void {
  budget.left -= n;
  if (budget.left < 0) {
    throw new DecodeError("too-large", `data holds more than ${budget.max} values`, r.offset);
  }
}
