// The per-meter families are written by hand (meter-series.ts) for speed: their exposition must be what prom-client
// would write for the same updates, line for line, escaping included.
import { Counter, Gauge, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { escapeLabelValue, MeterSeries } from "../../src/metrics/meter-series.js";

/** Sample lines of an exposition (no comments), sorted: series order is not part of the format. */
function samples(text: string): string[] {
  return text
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"))
    .sort();
}

describe("MeterSeries", () => {
  it("writes the same samples as prom-client for the same updates, with awkward label values", async () => {
    const odd = 'we"ird\\meter\nid';
    const series = new MeterSeries("x_");
    const reg = new Registry();
    const up = new Gauge({ name: "x_meter_up", help: "h", labelNames: ["meter"], registers: [reg] });
    const reads = new Counter({
      name: "x_meter_reads_total",
      help: "h",
      labelNames: ["meter", "result"],
      registers: [reg],
    });
    const value = new Gauge({
      name: "x_meter_value",
      help: "h",
      labelNames: ["meter", "key", "unit"],
      registers: [reg],
    });
    const frames = new Counter({
      name: "x_frames_total",
      help: "h",
      labelNames: ["meter", "direction"],
      registers: [reg],
    });
    const duration = new Gauge({
      name: "x_meter_read_duration_seconds",
      help: "h",
      labelNames: ["meter"],
      registers: [reg],
    });

    for (const meter of ["m1", odd]) {
      series.meter(meter).up = 0;
      up.set({ meter }, 0);
      series.poll(meter, "timeout", 5);
      reads.inc({ meter, result: "timeout" });
      duration.set({ meter }, 5);
      series.poll(meter, "ok", 0.125);
      reads.inc({ meter, result: "ok" });
      duration.set({ meter }, 0.125);
      series.meter(meter).up = 1;
      up.set({ meter }, 1);
      series.reading(meter, "energy", 'm³"\\', 1e21);
      value.set({ meter, key: "energy", unit: 'm³"\\' }, 1e21);
      series.reading(meter, "voltage", "V", 230.5);
      value.set({ meter, key: "voltage", unit: "V" }, 230.5);
      series.reading(meter, "voltage", "V", -0.000001);
      value.set({ meter, key: "voltage", unit: "V" }, -0.000001);
      series.meter(meter).txFrames += 3;
      frames.inc({ meter, direction: "tx" }, 3);
    }
    const ours = samples(Buffer.concat(series.render()).toString()).filter(
      (l) => !/^x_(meter_last|meter_breaker|meter_consec|meter_connects|frame_bytes)/.test(l),
    );
    expect(ours).toEqual(samples(await reg.metrics()));
    expect(ours).toContain(`x_meter_up{meter="we\\"ird\\\\meter\\nid"} 1`);
  });

  it("exports a series from its first update only, and HELP/TYPE of every family from the start", () => {
    const series = new MeterSeries("p_");
    const empty = Buffer.concat(series.render()).toString();
    for (const name of series.names) expect(empty).toContain(`# TYPE ${name} `);
    expect(samples(empty)).toEqual([]);

    series.meter("a").connectsError++;
    series.meter("a").consecutiveFailures = 1;
    expect(samples(Buffer.concat(series.render()).toString())).toEqual([
      'p_meter_connects_total{meter="a",result="error"} 1',
      'p_meter_consecutive_failures{meter="a"} 1',
    ]);
  });

  it("shares one frozen (key, unit) slot between meters while each keeps its own value", () => {
    const series = new MeterSeries("s_");
    series.reading("a", "voltage", "V", 230.5);
    series.reading("b", "current", "A", 4);
    series.reading("b", "voltage", "V", 229.25);
    series.reading("a", "voltage", "V", 231); // an update, not a second slot
    const a = series.meter("a");
    const b = series.meter("b");
    expect(a.slots).toHaveLength(1);
    expect(b.slots[1]).toBe(a.slots[0]);
    expect(Object.isFrozen(a.slots[0])).toBe(true);
    expect(samples(Buffer.concat(series.render()).toString())).toEqual([
      's_meter_value{meter="a",key="voltage",unit="V"} 231',
      's_meter_value{meter="b",key="current",unit="A"} 4',
      's_meter_value{meter="b",key="voltage",unit="V"} 229.25',
    ]);
  });

  it("stays valid UTF-8 across its 256 kB chunks, with a line longer than a chunk", () => {
    const series = new MeterSeries("u_");
    const long = "é".repeat(300_000);
    for (let i = 0; i < 20_000; i++) series.reading(`m${i}`, "energy", "m³", i);
    series.reading("m0", "text", long, 1);
    const text = Buffer.concat(series.render()).toString("utf8");
    expect(text).not.toContain("\uFFFD"); // no character cut in two
    const lines = samples(text);
    expect(lines).toHaveLength(20_001);
    expect(lines).toContain('u_meter_value{meter="m19999",key="energy",unit="m³"} 19999');
    expect(lines).toContain(`u_meter_value{meter="m0",key="text",unit="${long}"} 1`);
  });

  it("escapes backslash, double quote and line feed in label values, nothing else", () => {
    expect(escapeLabelValue('a\\b"c\nd é')).toBe('a\\\\b\\"c\\nd é');
  });
});
