// Fixed-rate grid per meter: slots at phase + k * interval (epoch-aligned, so a restart keeps the grid). The phase
// comes from a hash of the meter id, spreading thousands of meters evenly over the interval without coordination.

/** FNV-1a of the id, reduced to [0, intervalMs). */
export function phaseOffsetMs(meterId: string, intervalMs: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < meterId.length; i++) {
    hash ^= meterId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % Math.max(1, Math.floor(intervalMs));
}

/** The first slot of the grid at or after `now`. */
export function firstSlotAtOrAfter(now: number, intervalMs: number, phaseMs: number): number {
  const k = Math.ceil((now - phaseMs) / intervalMs);
  return phaseMs + k * intervalMs;
}

/**
 * Moves `slot` forward by whole intervals until it is no earlier than `notBefore`.
 * `skipped` is how many slots were passed over (they will never be polled).
 */
export function skipTo(slot: number, intervalMs: number, notBefore: number): { slot: number; skipped: number } {
  if (slot >= notBefore) return { slot, skipped: 0 };
  const skipped = Math.ceil((notBefore - slot) / intervalMs);
  return { slot: slot + skipped * intervalMs, skipped };
}

/** The latest slot that is due at `now`, starting from the oldest unserved `slot` (which must be <= now). */
export function latestDueSlot(slot: number, intervalMs: number, now: number): { slot: number; skipped: number } {
  if (now < slot + intervalMs) return { slot, skipped: 0 };
  const skipped = Math.floor((now - slot) / intervalMs);
  return { slot: slot + skipped * intervalMs, skipped };
}
