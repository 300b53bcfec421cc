// The per-meter metric families every meter has (up, reads, values, frames...), kept as plain numbers in one small
// record per meter and written in the Prometheus text format at scrape time.
//
// Why not prom-client for these: at 10,000 meters they are ~160,000 series. prom-client keeps an object per series
// (labels, hash, value) and formats each line through several arrays and regex replaces: measured 0.83 s of CPU per
// scrape at 10,000 meters, blocking the event loop (polls late) and allocating ~300 MB of garbage that outlives the
// scrape and is promoted (RSS). Here a meter's label text is escaped once, when the meter is first seen, and a
// scrape is one string append per series. Fleet-wide metrics (outbox, MQTT, process) stay in prom-client.

import { InternTable } from "../dlms/intern.js";
import type { PollResult } from "../poller/types.js";

/** A series is exported from its first update on (like a prom-client series): NaN = never set. */
const UNSET = Number.NaN;

const POLL_RESULTS: readonly PollResult[] = ["ok", "partial", "error", "timeout"];

/** The plain numbers of one meter; `label` is its `meter="…"` text, escaped once. */
class MeterRecord {
  up = UNSET;
  breaker = UNSET;
  consecutiveFailures = UNSET;
  lastSuccessSeconds = UNSET;
  lastReadDurationSeconds = UNSET;
  readonly reads = [0, 0, 0, 0]; // by POLL_RESULTS index
  connectsOk = 0;
  connectsError = 0;
  txFrames = 0;
  rxFrames = 0;
  txBytes = 0;
  rxBytes = 0;
  /**
   * Last value per (key, unit), in first-seen order: `slots[i]` (shared by every meter with that pair) names
   * `values[i]`. Two arrays, not an object per value: the numbers sit unboxed in one double array (≈ 0.25 kB less
   * per meter of 5 registers; BENCHMARKS.md, issue 9, seventh round).
   */
  slots: readonly ValueSlot[] = [];
  values: number[] = [];

  constructor(readonly label: string) {}
}

interface Family {
  name: string;
  help: string;
  type: "gauge" | "counter";
  /** Writes this family's lines of one meter. */
  lines(r: MeterRecord, name: string, out: ChunkWriter): void;
}

function gauge(name: string, help: string, pick: (r: MeterRecord) => number): Family {
  return {
    name,
    help,
    type: "gauge",
    lines(r, full, out) {
      const v = pick(r);
      if (!Number.isNaN(v)) out.write(`${full}{${r.label}} ${formatValue(v)}\n`);
    },
  };
}

/** A counter split by a second label; a series appears once its count is above 0 (incremented at least once). */
function counterBy(name: string, help: string, label: string, parts: [string, (r: MeterRecord) => number][]): Family {
  const suffixes = parts.map(([value, pick]) => ({ text: `,${label}="${escapeLabelValue(value)}"}`, pick }));
  return {
    name,
    help,
    type: "counter",
    lines(r, full, out) {
      for (const { text, pick } of suffixes) {
        const v = pick(r);
        if (v > 0) out.write(`${full}{${r.label}${text} ${formatValue(v)}\n`);
      }
    },
  };
}

export class MeterSeries {
  private readonly meters = new Map<string, MeterRecord>();
  private readonly families: Family[];

  constructor(private readonly prefix: string) {
    this.families = [
      gauge("meter_up", "1 when the last poll of the meter succeeded, else 0.", (r) => r.up),
      counterBy(
        "meter_reads_total",
        "Polls of a meter by result (ok, partial, error, timeout).",
        "result",
        POLL_RESULTS.map((result, i) => [result, (r) => r.reads[i]!]),
      ),
      gauge(
        "meter_read_duration_seconds",
        "Duration of the meter's last poll (connect, reads, release); the distribution over all meters is dlms_bridge_read_duration_seconds.",
        (r) => r.lastReadDurationSeconds,
      ),
      gauge(
        "meter_last_success_timestamp_seconds",
        "Unix time of the last successful poll of the meter.",
        (r) => r.lastSuccessSeconds,
      ),
      gauge("meter_breaker_state", "Circuit breaker of the meter: 0 closed, 1 half-open, 2 open.", (r) => r.breaker),
      gauge(
        "meter_consecutive_failures",
        "Failed polls of the meter since its last success.",
        (r) => r.consecutiveFailures,
      ),
      {
        name: "meter_value",
        help: "Last scaled value read from a register of the meter.",
        type: "gauge",
        lines(r, full, out) {
          for (let i = 0; i < r.slots.length; i++)
            out.write(`${full}{${r.label}${r.slots[i]!.labels}} ${formatValue(r.values[i]!)}\n`);
        },
      },
      counterBy("meter_connects_total", "Association attempts with the meter by result (ok, error).", "result", [
        ["ok", (r) => r.connectsOk],
        ["error", (r) => r.connectsError],
      ]),
      counterBy(
        "frames_total",
        "HDLC frames or wrapper PDUs exchanged with the meter, by direction (rx, tx).",
        "direction",
        [
          ["tx", (r) => r.txFrames],
          ["rx", (r) => r.rxFrames],
        ],
      ),
      counterBy("frame_bytes_total", "Bytes of the frames exchanged with the meter, by direction.", "direction", [
        ["tx", (r) => r.txBytes],
        ["rx", (r) => r.rxBytes],
      ]),
    ];
  }

  /** The names of the families written here (for tests and the contract check). */
  get names(): string[] {
    return this.families.map((f) => this.prefix + f.name);
  }

  /** The record of `meter`, created on first use (its label escaped once). */
  meter(meter: string): MeterRecord {
    let r = this.meters.get(meter);
    if (!r) {
      r = new MeterRecord(flat(`meter="${escapeLabelValue(meter)}"`));
      this.meters.set(meter, r);
    }
    return r;
  }

  reading(meter: string, key: string, unit: string, value: number): void {
    const r = this.meter(meter);
    const { slots, values } = r;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot.key === key && slot.unit === unit) {
        values[i] = value;
        return;
      }
    }
    // New arrays of exactly the meter's pairs (push would leave ≈ 15 spare slots each, for good).
    r.slots = slots.concat(valueSlot(key, unit));
    r.values = values.concat(value);
  }

  poll(meter: string, result: PollResult, durationSeconds: number): void {
    const r = this.meter(meter);
    r.reads[POLL_RESULTS.indexOf(result)]!++;
    r.lastReadDurationSeconds = durationSeconds;
  }

  /**
   * The exposition of every family as UTF-8 chunks (HELP and TYPE even with no meter yet, as prom-client does);
   * the HTTP server writes them one by one, never joined into one large buffer.
   */
  render(): Buffer[] {
    const out = new ChunkWriter();
    for (const family of this.families) {
      const full = this.prefix + family.name;
      out.write(`# HELP ${full} ${family.help}\n# TYPE ${full} ${family.type}\n`);
      for (const r of this.meters.values()) family.lines(r, full, out);
    }
    return out.finish();
  }
}

export type { MeterRecord };

const CHUNK_BYTES = 256 * 1024;

/** Appends strings as UTF-8 to a list of Buffers, so no string outlives its own write. */
class ChunkWriter {
  private readonly chunks: Buffer[] = [];
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;

  write(text: string): void {
    const worst = text.length * 3; // UTF-8 bytes of one UTF-16 unit, at most
    if (this.used + worst > this.buffer.length) {
      this.chunks.push(this.buffer.subarray(0, this.used));
      this.buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, worst));
      this.used = 0;
    }
    this.used += this.buffer.write(text, this.used);
  }

  finish(): Buffer[] {
    this.chunks.push(this.buffer.subarray(0, this.used));
    return this.chunks;
  }
}

/** A (key, unit) pair of meter_value and its `,key="…",unit="…"` label text (one flat string). */
interface ValueSlot {
  readonly key: string;
  readonly unit: string;
  readonly labels: string;
}

/** One frozen slot per distinct pair, shared by every meter that has it. */
const valueSlots = new InternTable<ValueSlot>();
function valueSlot(key: string, unit: string): ValueSlot {
  return valueSlots.get(`${key}\u0000${unit}`, () => {
    const labels = flat(`,key="${escapeLabelValue(key)}",unit="${escapeLabelValue(unit)}"`);
    return Object.freeze({ key, unit, labels });
  });
}

/** A concatenation kept for long is stored as a tree of pieces; this makes V8 store it as one sequence of chars. */
function flat(text: string): string {
  return JSON.parse(JSON.stringify(text)) as string;
}

/** Label value escaping of the text exposition format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
