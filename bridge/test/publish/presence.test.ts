// Presence towards the gateway: the order and timing of status / connect / disconnect in the outbox, with a real
// outbox and writer and the broker's PUBACKs played by the test.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Outbox, OutboxWriter } from "../../src/outbox/index.js";
import { GatewayPresence } from "../../src/publish/presence.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { tempDbPath } from "../store/temp-db.js";

const SETTLE = 2000;
const REPEAT = 60_000;

describe("GatewayPresence", () => {
  let temp: ReturnType<typeof tempDbPath>;
  let db: Db;
  let outbox: Outbox;
  let writer: OutboxWriter;
  let presence: GatewayPresence;
  const listeners = new Set<(ids: readonly number[]) => void>();
  const warnings: object[] = [];

  /** The broker acknowledges every row pending now (as the publisher does after PUBACK). */
  function ackAll(): string[] {
    const rows = outbox.peek(1000);
    outbox.ack(rows.map((r) => r.id));
    for (const listener of listeners) listener(rows.map((r) => r.id));
    return rows.map((r) => r.topic.split("/")[2]!);
  }
  const pendingTopics = () => outbox.peek(1000).map((r) => `${r.topic} ${r.payload}`);

  beforeEach(() => {
    vi.useFakeTimers();
    temp = tempDbPath();
    db = openDatabase(temp.path);
    outbox = new Outbox(db, { maxRows: 1000 });
    writer = new OutboxWriter(outbox, { maxDelayMs: 10 });
    presence = new GatewayPresence(
      {
        writer,
        outbox,
        acks: {
          onAcked: (listener) => {
            listeners.add(listener);
            return () => listeners.delete(listener);
          },
        },
        log: { warn: (details: object) => warnings.push(details) },
      },
      { settleMs: SETTLE, repeatMs: REPEAT },
    );
  });
  afterEach(async () => {
    presence.close();
    listeners.clear();
    warnings.length = 0;
    vi.useRealTimers();
    await db.close();
    temp.cleanup();
  });

  it("online: connect, then status online, then attributes, in the outbox in that order", async () => {
    presence.online("m1");
    presence.attributes("m1", { serial_number: "1" });
    await vi.advanceTimersByTimeAsync(20);
    expect(pendingTopics()).toEqual([
      'dlms/m1/connect {"meter":"m1"}',
      'dlms/m1/status {"meter":"m1","status":"online"}',
      'dlms/m1/attributes {"meter":"m1","serial_number":"1"}',
    ]);
  });

  it("offline: the disconnect is written settleMs after the PUBACK of the status, even after a broker outage", async () => {
    presence.online("m1");
    await vi.advanceTimersByTimeAsync(20);
    ackAll();
    presence.offline("m1");
    await vi.advanceTimersByTimeAsync(20);
    expect(pendingTopics()).toEqual(['dlms/m1/status {"meter":"m1","status":"offline"}']);
    // The broker is away for 30 s: the status waits, and no disconnect may pile up behind it.
    await vi.advanceTimersByTimeAsync(30_000);
    expect(pendingTopics()).toHaveLength(1);
    expect(ackAll()).toEqual(["status"]);
    await vi.advanceTimersByTimeAsync(SETTLE - 50);
    expect(pendingTopics()).toEqual([]);
    expect(presence.isDisconnected("m1")).toBe(false);
    await vi.advanceTimersByTimeAsync(100);
    expect(pendingTopics()).toEqual(['dlms/m1/disconnect {"meter":"m1"}']);
    expect(presence.isDisconnected("m1")).toBe(true);
  });

  it("publishes nothing else for an offline meter: a second offline and attributes are ignored", async () => {
    presence.offline("m1"); // first poll after a start failed: unknown -> offline
    await vi.advanceTimersByTimeAsync(20);
    ackAll();
    await vi.advanceTimersByTimeAsync(SETTLE + 20);
    ackAll();
    presence.offline("m1");
    presence.attributes("m1", { serial_number: "1" });
    await vi.advanceTimersByTimeAsync(REPEAT - 1000);
    expect(pendingTopics()).toEqual([]);
  });

  it("back online before the disconnect: no disconnect at all, connect and status online follow the offline status", async () => {
    presence.online("m1");
    presence.offline("m1");
    await vi.advanceTimersByTimeAsync(20);
    ackAll();
    await vi.advanceTimersByTimeAsync(SETTLE / 2);
    presence.online("m1");
    await vi.advanceTimersByTimeAsync(SETTLE * 3);
    expect(pendingTopics()).toEqual([
      'dlms/m1/connect {"meter":"m1"}',
      'dlms/m1/status {"meter":"m1","status":"online"}',
    ]);
  });

  it("repeats the disconnect while offline, but never stacks one behind an unacknowledged one", async () => {
    presence.offline("m1");
    await vi.advanceTimersByTimeAsync(20);
    ackAll();
    await vi.advanceTimersByTimeAsync(SETTLE + 20);
    expect(ackAll()).toEqual(["disconnect"]);
    await vi.advanceTimersByTimeAsync(REPEAT + 20);
    expect(pendingTopics()).toEqual(['dlms/m1/disconnect {"meter":"m1"}']);
    // Not acknowledged (broker away): three more periods add nothing.
    await vi.advanceTimersByTimeAsync(3 * REPEAT);
    expect(pendingTopics()).toHaveLength(1);
    ackAll();
    await vi.advanceTimersByTimeAsync(REPEAT + 20);
    expect(pendingTopics()).toEqual(['dlms/m1/disconnect {"meter":"m1"}']);
  });

  it("shutdown: every meter goes offline and is disconnected; false at the deadline when nothing is acknowledged", async () => {
    presence.online("m1");
    const done = presence.shutdown(["m1", "m2"], 10_000);
    await vi.advanceTimersByTimeAsync(20);
    ackAll();
    await vi.advanceTimersByTimeAsync(SETTLE + 20);
    await expect(done).resolves.toBe(true);
    await writer.flush();
    expect(pendingTopics().sort()).toEqual(['dlms/m1/disconnect {"meter":"m1"}', 'dlms/m2/disconnect {"meter":"m2"}']);

    presence.online("m3");
    const late = presence.shutdown(["m3"], 5000);
    await vi.advanceTimersByTimeAsync(5000);
    await expect(late).resolves.toBe(false);
    expect(warnings).toEqual([]);
  });
});
