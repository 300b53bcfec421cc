// Test doubles for the poller: scripted in-memory meters and hooks that record every call.

import type { ObjectRef } from "../../src/client/object-ref.js";
import type { ObjectReadingJson } from "../../src/client/reading-json.js";
import type { MeterConfig, Reading, RegisterSpec } from "../../src/model.js";
import type {
  MeterEventKind,
  MeterRuntimeState,
  MeterSession,
  PollerHooks,
  PollResult,
  RegisterOutcome,
  SessionFactory,
} from "../../src/poller/engine.js";

export const REGISTERS: RegisterSpec[] = [
  { key: "voltage", obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 },
  { key: "current", obis: "1.0.31.7.0.255", classId: 3, attributeId: 2 },
  { key: "active_energy", obis: "1.0.1.8.0.255", classId: 3, attributeId: 2 },
];

export const UNITS: Record<string, string> = { voltage: "V", current: "A", active_energy: "Wh" };

export function meterConfig(id: string, overrides: Partial<MeterConfig> = {}): MeterConfig {
  return {
    id,
    transport: "hdlc",
    host: "127.0.0.1",
    port: 4059,
    clientAddress: 16,
    serverLogical: 1,
    auth: "low",
    password: "s3cret-pw",
    intervalMs: 10_000,
    timeoutMs: 1_000,
    registers: REGISTERS,
    ...overrides,
  };
}

/** Never settles. */
export const hang = <T>(): Promise<T> => new Promise<T>(() => {});

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function allValues(specs: readonly RegisterSpec[]): Record<string, RegisterOutcome> {
  return Object.fromEntries(specs.map((spec, i) => [spec.key, { value: 230 + i, unit: UNITS[spec.key] ?? "" }]));
}

/** How each new session of a fake meter behaves; `n` is the session's index (0 = first association). */
export interface FakeBehaviour {
  connect?(n: number): Promise<void>;
  read?(n: number, specs: readonly RegisterSpec[]): Promise<Record<string, RegisterOutcome>>;
  /** On-demand reads; default: each object answers 42 V. */
  readObjects?(n: number, objects: ObjectRef[]): Promise<ObjectReadingJson[]>;
  keepAlive?: ((n: number) => Promise<void>) | false;
  release?(n: number): Promise<void>;
}

export interface FakeSessionLog {
  n: number;
  calls: string[];
  closed: boolean;
}

/** A scripted meter; records each session's calls and the most operations ever in flight on one session. */
export class FakeMeter {
  readonly sessions: FakeSessionLog[] = [];
  maxInFlightPerSession = 0;
  connectsInFlight = 0;

  constructor(public behaviour: FakeBehaviour = {}) {}

  open(): MeterSession {
    const log: FakeSessionLog = { n: this.sessions.length, calls: [], closed: false };
    this.sessions.push(log);
    let inFlight = 0;
    const track = <T>(name: string, run: () => Promise<T>): Promise<T> => {
      log.calls.push(name);
      inFlight++;
      this.maxInFlightPerSession = Math.max(this.maxInFlightPerSession, inFlight);
      return run().finally(() => inFlight--);
    };
    const b = this.behaviour;
    const session: MeterSession = {
      connect: () => {
        this.connectsInFlight++;
        return track("connect", () => b.connect?.(log.n) ?? Promise.resolve()).finally(() => this.connectsInFlight--);
      },
      readRegisters: (specs) => track("read", () => b.read?.(log.n, specs) ?? Promise.resolve(allValues(specs))),
      readObjects: (objects) =>
        track(
          "read-objects",
          () =>
            b.readObjects?.(log.n, objects) ??
            Promise.resolve(
              objects.map((o) => ({ ...o, value: 42, type: "long-unsigned", unit: "V", scaler: 0, raw: 42 })),
            ),
        ),
      readAttributes: () =>
        track("attributes", () => Promise.resolve({ serial_number: `SN-${log.n}`, logical_device_name: "SIM" })),
      release: () => track("release", () => b.release?.(log.n) ?? Promise.resolve()),
      close: () => {
        log.calls.push("close");
        log.closed = true;
      },
    };
    if (b.keepAlive !== false) {
      const keepAlive = b.keepAlive;
      session.keepAlive = () => track("keep-alive", () => keepAlive?.(log.n) ?? Promise.resolve());
    }
    return session;
  }
}

export function fakeFactory(meters: Record<string, FakeMeter>): SessionFactory {
  return (config) => {
    const meter = meters[config.id];
    if (!meter) throw new Error(`no fake for ${config.id}`);
    return meter.open();
  };
}

export interface RecordedEvent {
  meter: string;
  kind: MeterEventKind;
  detail: Record<string, unknown>;
}

export class RecordingHooks implements PollerHooks {
  onDiscarded?: (meter: string, reason: string) => void;
  readonly readings: Reading[] = [];
  readonly attributes: { meter: string; attrs: Record<string, string | number> }[] = [];
  readonly statuses: { meter: string; online: boolean }[] = [];
  readonly events: RecordedEvent[] = [];
  readonly polls: { meter: string; result: PollResult; durationMs: number }[] = [];
  readonly states = new Map<string, MeterRuntimeState>();

  onReading(reading: Reading): void {
    this.readings.push(reading);
  }
  onAttributes(meter: string, attrs: Record<string, string | number>): void {
    this.attributes.push({ meter, attrs });
  }
  onMeterStatus(meter: string, online: boolean): void {
    this.statuses.push({ meter, online });
  }
  onEvent(meter: string, kind: MeterEventKind, detail: Record<string, unknown>): void {
    this.events.push({ meter, kind, detail });
  }
  onPoll(meter: string, result: PollResult, durationMs: number): void {
    this.polls.push({ meter, result, durationMs });
  }
  onState(meter: string, state: MeterRuntimeState): void {
    this.states.set(meter, state);
  }

  readingsOf(meter: string): Reading[] {
    return this.readings.filter((r) => r.meter === meter);
  }
  eventsOf(meter: string, kind?: MeterEventKind): RecordedEvent[] {
    return this.events.filter((e) => e.meter === meter && (kind === undefined || e.kind === kind));
  }
}
