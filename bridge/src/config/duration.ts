// Durations in configuration: "500ms", "10s", "2m", "1h", "7d". A bare number is refused: its unit would be a guess.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or throws an Error whose message quotes the text and the accepted forms. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) throw new Error(`'${text}' is not a duration (use e.g. 500ms, 10s, 2m, 1h, 7d)`);
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
  if (ms <= 0) throw new Error(`'${text}' must be longer than 0ms`);
  return ms;
}
