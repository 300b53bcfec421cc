// Poller scheduling at scale: 10,000 in-memory meters on a 10 s interval through the real PollerEngine.
// Run: node --import tsx bench/poller-scale.ts   (env: METERS=10000 INTERVAL_MS=10000 BENCH_SECONDS=30)
// Prints achieved polls/s and schedule lateness after the first interval (start-up connects excluded), CPU and RSS.

import type { MeterConfig, RegisterSpec } from "../bridge/src/model.js";
import { type MeterSession, PollerEngine, type RegisterOutcome } from "../bridge/src/poller/engine.js";
import { phaseOffsetMs } from "../bridge/src/poller/schedule.js";

const METERS = Number(process.env.METERS ?? 10_000);
const INTERVAL_MS = Number(process.env.INTERVAL_MS ?? 10_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);

const registers: RegisterSpec[] = [
  { key: "voltage", obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 },
  { key: "current", obis: "1.0.31.7.0.255", classId: 3, attributeId: 2 },
  { key: "frequency", obis: "1.0.14.7.0.255", classId: 3, attributeId: 2 },
  { key: "active_power", obis: "1.0.1.7.0.255", classId: 3, attributeId: 2 },
  { key: "active_energy", obis: "1.0.1.8.0.255", classId: 3, attributeId: 2 },
];

const meters: MeterConfig[] = Array.from({ length: METERS }, (_, i) => ({
  id: `m${i}`,
  transport: "hdlc",
  host: "127.0.0.1",
  port: 4059,
  clientAddress: 16,
  serverLogical: 1,
  auth: "none",
  intervalMs: INTERVAL_MS,
  timeoutMs: 5_000,
  registers,
}));

/** Each operation completes on a later event-loop turn, as socket I/O would. */
const nextTurn = <T>(value: T): Promise<T> => new Promise((resolve) => setImmediate(() => resolve(value)));

const lateness: number[] = [];
let measuring = false;
let polls = 0;

function fakeSession(meter: MeterConfig): MeterSession {
  const phase = phaseOffsetMs(meter.id, meter.intervalMs);
  return {
    connect: () => nextTurn(undefined),
    readAttributes: () => nextTurn({ serial_number: meter.id, logical_device_name: "BENCH" }),
    readRegisters: (specs) => {
      const now = Date.now();
      if (measuring) {
        // Distance to the latest grid slot at or before now.
        lateness.push((((now - phase) % meter.intervalMs) + meter.intervalMs) % meter.intervalMs);
        polls++;
      }
      const out: Record<string, RegisterOutcome> = {};
      for (const spec of specs) out[spec.key] = { value: 230.1, unit: "V" };
      return nextTurn(out);
    },
    keepAlive: () => nextTurn(undefined),
    release: () => nextTurn(undefined),
    close: () => {},
  };
}

let readings = 0;
const engine = new PollerEngine({
  meters,
  sessionFactory: (meter) => fakeSession(meter),
  hooks: {
    onReading: () => {
      if (measuring) readings++;
    },
    onAttributes: () => {},
    onMeterStatus: () => {},
    onEvent: () => {},
    onPoll: () => {},
    onState: () => {},
  },
  maxConcurrentConnects: 32,
  breaker: { failureThreshold: 5, openMs: 60_000 },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

const startedAt = Date.now();
engine.start();
await sleep(INTERVAL_MS); // warm-up: every meter connects once
measuring = true;
const cpuBefore = process.cpuUsage();
const measureStart = Date.now();
await sleep(SECONDS * 1_000 - INTERVAL_MS);
measuring = false;
const wallMs = Date.now() - measureStart;
const cpu = process.cpuUsage(cpuBefore);
const rssMb = process.memoryUsage().rss / 2 ** 20;
const heapMb = process.memoryUsage().heapUsed / 2 ** 20;
await engine.stop();

lateness.sort((a, b) => a - b);
const status = engine.status();
const result = {
  meters: METERS,
  intervalMs: INTERVAL_MS,
  measuredSeconds: +(wallMs / 1_000).toFixed(1),
  expectedPollsPerSecond: +((METERS * 1_000) / INTERVAL_MS).toFixed(1),
  pollsPerSecond: +((polls * 1_000) / wallMs).toFixed(1),
  readingsPerSecond: +((readings * 1_000) / wallMs).toFixed(1),
  latenessMs: { p50: percentile(lateness, 0.5), p99: percentile(lateness, 0.99), max: lateness.at(-1) },
  cpuPercentOfOneCore: +(((cpu.user + cpu.system) / 1_000 / wallMs) * 100).toFixed(1),
  rssMb: +rssMb.toFixed(0),
  heapUsedMb: +heapMb.toFixed(0),
  skippedSlots: status.reduce((n, s) => n + s.skippedSlots, 0),
  metersUp: status.filter((s) => s.up).length,
  totalSeconds: +((Date.now() - startedAt) / 1_000).toFixed(1),
};
console.log(JSON.stringify(result, null, 2));
