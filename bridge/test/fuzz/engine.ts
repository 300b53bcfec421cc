// A small mutation fuzzer: seeds from the captured vectors, mutated by a seeded PRNG (so every run and every
// failure is reproducible from target name, seed and index), run against one decoder at a time. A failure is any
// error that is not "typed" (see targets.ts: the stack's error classes), an input that takes too long (hang), or
// memory that keeps growing.

export interface FuzzTarget {
  name: string;
  /** Starting points: realistic inputs (captured vectors, documented examples). */
  seeds(): Uint8Array[];
  /** Runs one input; what it throws (or rejects with) is judged by isTyped. May be async without real I/O. */
  run(input: Uint8Array): void | Promise<void>;
  /** Errors that are the decoder's documented way to refuse input. */
  isTyped(error: unknown): boolean;
  /** Largest input to try (default 4096). */
  maxLength?: number;
}

export interface FuzzFailure {
  target: string;
  kind: "crash" | "hang";
  index: number;
  input: Uint8Array;
  message: string;
}

export interface FuzzStats {
  target: string;
  inputs: number;
  typedErrors: number;
  accepted: number;
  ms: number;
  slowestMs: number;
  failures: FuzzFailure[];
}

/** mulberry32: tiny, fast, good enough to drive mutations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function hashName(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Bytes that matter to these formats: flags, length forms, tags, LLC, extremes. */
const INTERESTING = [0x00, 0x01, 0x02, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0xa0, 0xa8, 0xc4, 0xe6, 0xe7, 0xff];

export function mutate(
  base: Uint8Array,
  seeds: readonly Uint8Array[],
  rnd: () => number,
  maxLength: number,
): Uint8Array {
  const int = (n: number) => Math.floor(rnd() * n);
  if (rnd() < 0.03) return Uint8Array.from({ length: int(Math.min(maxLength, 512)) }, () => int(256));
  let b = Array.from(base);
  const rounds = 1 + int(rnd() < 0.7 ? 3 : 8);
  for (let k = 0; k < rounds; k++) {
    const at = b.length === 0 ? 0 : int(b.length);
    switch (int(10)) {
      case 0: // flip one bit
        if (b.length) b[at] = b[at]! ^ (1 << int(8));
        break;
      case 1: // random byte
        if (b.length) b[at] = int(256);
        break;
      case 2: // interesting byte
        if (b.length) b[at] = INTERESTING[int(INTERESTING.length)]!;
        break;
      case 3: // insert a few random bytes
        b.splice(at, 0, ...Array.from({ length: 1 + int(16) }, () => int(256)));
        break;
      case 4: // delete a range
        b.splice(at, 1 + int(Math.max(1, Math.min(32, b.length - at))));
        break;
      case 5: {
        // repeat a range (long runs of a structure: nesting, segments, blocks)
        const len = 1 + int(Math.min(64, Math.max(1, b.length - at)));
        const part = b.slice(at, at + len);
        const times = 1 + int(rnd() < 0.1 ? 200 : 8);
        const copies: number[] = [];
        for (let t = 0; t < times; t++) copies.push(...part);
        b.splice(at, 0, ...copies);
        break;
      }
      case 6: {
        // splice in part of another seed
        const other = seeds[int(seeds.length)]!;
        const from = int(other.length + 1);
        b.splice(at, int(8), ...other.subarray(from, from + 1 + int(64)));
        break;
      }
      case 7: // truncate
        b = b.slice(0, at);
        break;
      case 8: {
        // a big length: 0x84 FF FF FF FF, 0x82 FF FF, or a 16-bit header length
        const forms = [[0x84, 0xff, 0xff, 0xff, 0xff], [0x82, 0xff, 0xff], [0x81, 0xff], [0xff, 0xff], [0x7f]];
        const form = forms[int(forms.length)]!;
        b.splice(at, rnd() < 0.5 ? form.length : 0, ...form);
        break;
      }
      default: // arithmetic on a byte (off-by-one lengths)
        if (b.length) b[at] = (b[at]! + (rnd() < 0.5 ? 1 : 255)) & 0xff;
    }
  }
  if (b.length > maxLength) b = b.slice(0, maxLength);
  return Uint8Array.from(b);
}

/**
 * Runs `count` inputs against the target: first every seed as is, then mutations. Failures are collected (with the
 * input) rather than thrown, so one run reports them all. `hangMs`: an input slower than this is a hang.
 */
export async function fuzzTarget(target: FuzzTarget, count: number, seed = 1, hangMs = 250): Promise<FuzzStats> {
  const seeds = target.seeds();
  if (seeds.length === 0) throw new Error(`fuzz target ${target.name} has no seeds`);
  const rnd = prng(hashName(target.name) ^ Math.imul(seed, 0x9e3779b1));
  const maxLength = target.maxLength ?? 4096;
  const stats: FuzzStats = {
    target: target.name,
    inputs: 0,
    typedErrors: 0,
    accepted: 0,
    ms: 0,
    slowestMs: 0,
    failures: [],
  };
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const input =
      i < seeds.length ? seeds[i]! : mutate(seeds[Math.floor(rnd() * seeds.length)]!, seeds, rnd, maxLength);
    const t0 = performance.now();
    try {
      const pending = target.run(input);
      if (pending) await pending;
      stats.accepted++;
    } catch (error) {
      if (target.isTyped(error)) stats.typedErrors++;
      else {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        stats.failures.push({ target: target.name, kind: "crash", index: i, input, message });
      }
    }
    const took = performance.now() - t0;
    if (took > stats.slowestMs) stats.slowestMs = took;
    if (took > hangMs) {
      stats.failures.push({ target: target.name, kind: "hang", index: i, input, message: `${took.toFixed(0)} ms` });
    }
    stats.inputs++;
  }
  stats.ms = performance.now() - started;
  return stats;
}

export function toHexString(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex");
}
