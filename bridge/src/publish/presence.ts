// A meter's presence towards the ThingsBoard gateway: connect / status / attributes / disconnect, ordered so the
// gateway ends in the meter's state (docs/contracts.md, "Presence").
//
// The gateway (3.8.x) handles a disconnect request at once, but a data message (status, attributes, telemetry) only
// ~0.3 s later, after its converter and storage threads, and re-connects any device that data arrives for. So:
// - nothing is retained: a retained status would re-connect every meter at each gateway (re)subscription;
// - back online: connect, status online, then attributes and readings, all through the outbox, in order;
// - offline: status "offline" through the outbox; only once the broker acknowledged it and `settleMs` passed is the
//   disconnect written (also through the outbox). The delay is counted from the PUBACK, not from the write, so an
//   outage of the broker cannot bunch the two together; after it nothing more is published for that meter;
// - while offline the disconnect is repeated every `repeatMs` (a request, not data: it can never connect a device),
//   at most one waiting in the outbox per meter. It repairs what the bridge cannot see: the gateway away while both
//   were queued for it (it then gets them back to back, and the status re-connects the device).
import type { Logger } from "../log.js";
import type { Outbox, OutboxMessage } from "../outbox/outbox.js";
import type { OutboxWriter } from "../outbox/writer.js";
import {
  attributesPayload,
  attributesTopic,
  presencePayload,
  presenceTopic,
  statusPayload,
  statusTopic,
} from "./payloads.js";

export interface PresenceOptions {
  /** Time between the broker's PUBACK of "status offline" and the disconnect (≥ 1 s; the gateway needs ~0.3 s). */
  settleMs: number;
  /** While offline, the disconnect is repeated this often; 0 = never. */
  repeatMs: number;
}

export const DEFAULT_PRESENCE: PresenceOptions = { settleMs: 2000, repeatMs: 60_000 };

export interface PresenceDeps {
  writer: Pick<OutboxWriter, "writeMessage">;
  outbox: Pick<Outbox, "isPending">;
  /** The publisher's PUBACK notifications (outbox row ids). */
  acks: { onAcked(listener: (ids: readonly number[]) => void): () => void };
  log: Pick<Logger, "warn">;
}

type Phase = "online" | "settling" | "offline";

interface MeterPresence {
  phase: Phase;
  /** Bumped on every change: callbacks of an older phase do nothing. */
  generation: number;
  /** Outbox row of "status offline" (settling) or of the last disconnect (offline). */
  row?: number;
  timer?: ReturnType<typeof setTimeout>;
}

export class GatewayPresence {
  private readonly meters = new Map<string, MeterPresence>();
  /** Settling meters whose status row waits for its PUBACK (checked on each acknowledgement). */
  private readonly awaitingAck = new Set<string>();
  private readonly unsubscribe: () => void;
  private readonly waiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly deps: PresenceDeps,
    private readonly options: PresenceOptions = DEFAULT_PRESENCE,
  ) {
    if (!(options.settleMs >= 0) || !(options.repeatMs >= 0)) throw new Error("presence delays must be >= 0");
    this.unsubscribe = deps.acks.onAcked(() => {
      for (const meter of [...this.awaitingAck]) this.startSettleIfAcked(meter);
    });
  }

  /** The meter answers (again): connect, then status online; attributes and readings follow in the outbox. */
  online(meter: string): void {
    const state = this.enter(meter, "online");
    this.write(state, { meter, topic: presenceTopic(meter, true), payload: presencePayload(meter) });
    this.write(state, { meter, topic: statusTopic(meter), payload: statusPayload(meter, true) });
  }

  /** The meter is unreachable: status offline now, the disconnect `settleMs` after its PUBACK. */
  offline(meter: string): void {
    const current = this.meters.get(meter);
    if (current && current.phase !== "online") return; // already going or gone
    const state = this.enter(meter, "settling");
    const generation = state.generation;
    this.write(state, { meter, topic: statusTopic(meter), payload: statusPayload(meter, false) }).then((id) => {
      if (id === undefined || state.generation !== generation) return;
      state.row = id;
      this.awaitingAck.add(meter);
      this.startSettleIfAcked(meter);
    });
  }

  /** Attributes are data: only while the meter is online (they would re-connect an offline device). */
  attributes(meter: string, attrs: Record<string, string | number>): void {
    const state = this.meters.get(meter);
    if (state?.phase !== "online") return;
    this.write(state, { meter, topic: attributesTopic(meter), payload: attributesPayload(meter, attrs) });
  }

  /** True once the meter's disconnect is in the outbox. */
  isDisconnected(meter: string): boolean {
    return this.meters.get(meter)?.phase === "offline";
  }

  /**
   * Shutdown: every given meter not already disconnected goes offline; resolves true once all their disconnects
   * are in the outbox, false at the deadline (the broker did not acknowledge in time: the next start repeats it).
   */
  async shutdown(meters: readonly string[], timeoutMs: number): Promise<boolean> {
    for (const meter of meters) this.offline(meter);
    const done = () => meters.every((m) => this.isDisconnected(m));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let waiter: (() => void) | undefined;
    const result = await new Promise<boolean>((resolve) => {
      if (done()) return resolve(true);
      timer = setTimeout(() => resolve(false), timeoutMs);
      waiter = () => {
        if (done()) resolve(true);
      };
      this.waiters.add(waiter);
    });
    clearTimeout(timer);
    if (waiter) this.waiters.delete(waiter);
    return result;
  }

  /** Stops every timer (after shutdown). */
  close(): void {
    this.closed = true;
    this.unsubscribe();
    for (const state of this.meters.values()) clearTimeout(state.timer);
  }

  private enter(meter: string, phase: Phase): MeterPresence {
    let state = this.meters.get(meter);
    if (!state) {
      state = { phase, generation: 0 };
      this.meters.set(meter, state);
    }
    clearTimeout(state.timer);
    state.timer = undefined;
    state.row = undefined;
    state.phase = phase;
    state.generation++;
    return state;
  }

  /** Settling and the status row acknowledged (or dropped by the outbox bound): the disconnect follows settleMs later. */
  private startSettleIfAcked(meter: string): void {
    const state = this.meters.get(meter);
    if (state?.phase !== "settling" || state.row === undefined || state.timer !== undefined) {
      this.awaitingAck.delete(meter);
      return;
    }
    if (this.deps.outbox.isPending(state.row)) return;
    this.awaitingAck.delete(meter);
    const generation = state.generation;
    state.timer = setTimeout(() => {
      if (state.generation !== generation || this.closed) return;
      state.generation++;
      state.phase = "offline";
      state.timer = undefined;
      state.row = undefined;
      this.notify();
      this.disconnect(meter, state);
    }, this.options.settleMs);
  }

  private disconnect(meter: string, state: MeterPresence): void {
    const generation = state.generation;
    this.write(state, { meter, topic: presenceTopic(meter, false), payload: presencePayload(meter) }).then((id) => {
      if (id === undefined || state.generation !== generation) return;
      state.row = id;
      if (this.options.repeatMs > 0 && !this.closed)
        state.timer = setTimeout(() => this.repeat(meter), this.options.repeatMs);
    });
  }

  /** Repeats the disconnect unless the last one still waits in the outbox (broker away: one is enough). */
  private repeat(meter: string): void {
    const state = this.meters.get(meter);
    if (state?.phase !== "offline" || this.closed) return;
    state.timer = undefined;
    if (state.row !== undefined && this.deps.outbox.isPending(state.row)) {
      state.timer = setTimeout(() => this.repeat(meter), this.options.repeatMs);
      return;
    }
    this.disconnect(meter, state);
  }

  /** Writes through the outbox writer; resolves with the row id, or undefined (logged) if it could not be stored. */
  private write(state: MeterPresence, message: OutboxMessage): Promise<number | undefined> {
    return this.deps.writer.writeMessage(message).catch((error: unknown) => {
      this.deps.log.warn(
        { meter: message.meter, topic: message.topic, phase: state.phase, err: { message: (error as Error).message } },
        "could not store a presence message",
      );
      return undefined;
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
