// Exponential backoff with full jitter (uniform in [0, min(max, base * 2^attempt))): retries of many meters that
// failed together spread out instead of hammering the network in waves.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
