import type { MqttClient } from "mqtt";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { createMetrics } from "../../src/metrics/registry.js";
import type { Reading } from "../../src/model.js";
import { Outbox, reportDrops } from "../../src/outbox/outbox.js";
import { MqttPublisher } from "../../src/publish/mqtt-publisher.js";
import { BRIDGE_STATE_TOPIC, statusPayload, statusTopic } from "../../src/publish/payloads.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";
import { tempDbPath } from "../store/temp-db.js";
import { type Received, subscriber, waitFor } from "./helpers.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

function reading(meter: string, seq: number): Reading {
  return { meter, ts: 1_700_000_000_000 + seq, values: { seq, voltage: 230.5, active_energy: 12345.678 } };
}

function telemetryOf(messages: Received[], meter: string): number[] {
  return messages.filter((m) => m.topic === `dlms/${meter}/telemetry`).map((m) => JSON.parse(m.payload).values.seq);
}

describe("MqttPublisher against a real Mosquitto", () => {
  let broker: MosquittoHandle;
  let proxy: TcpProxy;
  let temp: ReturnType<typeof tempDbPath>;
  let db: Db;
  let outbox: Outbox;
  let publisher: MqttPublisher;
  const clients: MqttClient[] = [];
  const metrics = createMetrics({ defaultMetrics: false });

  beforeEach(async () => {
    broker = await startMosquitto();
    proxy = await startTcpProxy(broker.port);
    temp = tempDbPath();
    db = openDatabase(temp.path);
    outbox = new Outbox(db, { maxRows: 10_000 });
    publisher = new MqttPublisher(
      { url: proxy.url, clientId: "bridge-under-test", reconnectPeriodMs: 100, inFlightWindow: 8 },
      outbox,
      metrics,
      createLogger("silent"),
    );
  });

  afterEach(async () => {
    await publisher.stop(500);
    for (const client of clients.splice(0)) await client.endAsync(true);
    await proxy.close();
    await broker.stop();
    await db.close();
    temp.cleanup();
  });

  async function subscribe(topics: string[]) {
    const sub = await subscriber(broker.url, topics);
    clients.push(sub.client);
    return sub;
  }

  it("publishes every reading on dlms/<meter>/telemetry in order with the contract JSON, then empties the outbox", async () => {
    const { messages } = await subscribe(["dlms/+/telemetry"]);
    publisher.start();
    const readings = Array.from({ length: 100 }, (_, i) => reading(i % 2 ? "m1" : "m2", i));
    outbox.enqueue(readings);

    await waitFor(() => messages.length === 100, "100 telemetry messages");
    expect(messages.map((m) => [m.topic, JSON.parse(m.payload)])).toEqual(
      readings.map((r) => [`dlms/${r.meter}/telemetry`, { meter: r.meter, ts: r.ts, values: r.values }]),
    );
    await waitFor(() => outbox.pending() === 0, "outbox to empty after PUBACKs");
  });

  it("keeps readings while the broker is down and delivers all of them, in order per meter, after it returns", async () => {
    const sub = await subscribe(["dlms/+/telemetry"]);
    publisher.start();
    outbox.enqueue(Array.from({ length: 20 }, (_, i) => reading(i % 2 ? "m1" : "m2", i)));
    await waitFor(() => sub.messages.length === 20, "the first 20 readings");
    await waitFor(() => outbox.pending() === 0, "their PUBACKs");

    proxy.block(); // keeps the publisher away until the subscriber is back
    await broker.kill();
    await waitFor(() => !publisher.connected, "the publisher to notice the outage");
    for (let seq = 20; seq < 80; seq++) outbox.enqueue([reading(seq % 2 ? "m1" : "m2", seq)]);
    expect(outbox.pending()).toBe(60);

    await broker.restart();
    await waitFor(() => sub.client.connected, "the subscriber to reconnect");
    await sub.client.subscribeAsync(["dlms/+/telemetry"], { qos: 1 });
    proxy.unblock();

    await waitFor(() => new Set(sub.messages.map((m) => m.payload)).size === 80, "all 80 readings");
    const withParity = (parity: number) => [...Array(80).keys()].filter((seq) => seq % 2 === parity);
    // QoS 1 is at-least-once: a duplicate may appear, a gap or reordering may not.
    const dedupe = (seqs: number[]) => seqs.filter((seq, i) => seqs.indexOf(seq) === i);
    expect(dedupe(telemetryOf(sub.messages, "m1"))).toEqual(withParity(1));
    expect(dedupe(telemetryOf(sub.messages, "m2"))).toEqual(withParity(0));
    await waitFor(() => outbox.pending() === 0, "outbox to empty after PUBACKs");
  });

  it("re-sends what was in flight when the connection broke, without gaps or reordering", async () => {
    const sub = await subscribe(["dlms/+/telemetry"]);
    publisher.start();
    outbox.enqueue(Array.from({ length: 300 }, (_, i) => reading("m1", i)));
    await waitFor(() => sub.messages.length >= 30, "the first readings");
    proxy.dropConnections();

    await waitFor(() => new Set(sub.messages.map((m) => m.payload)).size === 300, "all 300 readings");
    const seqs = telemetryOf(sub.messages, "m1");
    expect(seqs.filter((seq, i) => seqs.indexOf(seq) === i)).toEqual([...Array(300).keys()]);
    await waitFor(() => outbox.pending() === 0, "outbox to empty after PUBACKs");
  });

  it("delivers readings stored before a bridge restart (new publisher, reopened database file)", async () => {
    proxy.block();
    publisher.start();
    outbox.enqueue(Array.from({ length: 10 }, (_, i) => reading("m1", i)));
    await publisher.stop(100);
    await db.close();

    db = openDatabase(temp.path);
    outbox = new Outbox(db, { maxRows: 10_000 });
    publisher = new MqttPublisher(
      { url: broker.url, clientId: "bridge-restarted", reconnectPeriodMs: 100 },
      outbox,
      metrics,
      createLogger("silent"),
    );
    const sub = await subscribe(["dlms/+/telemetry"]);
    publisher.start();
    await waitFor(() => sub.messages.length === 10, "the 10 stored readings");
    expect(telemetryOf(sub.messages, "m1")).toEqual([...Array(10).keys()]);
    await waitFor(() => outbox.pending() === 0, "outbox to empty after PUBACKs");
  });

  it("when the outage outlasts the bound, keeps and later delivers the newest readings and counts the dropped", async () => {
    const counted = createMetrics({ defaultMetrics: false });
    outbox = new Outbox(db, { maxRows: 10, onDropped: reportDrops(counted, createLogger("silent"), 10) });
    publisher = new MqttPublisher(
      { url: proxy.url, clientId: "bounded", reconnectPeriodMs: 100 },
      outbox,
      counted,
      createLogger("silent"),
    );
    const sub = await subscribe(["dlms/+/telemetry"]);
    proxy.block();
    publisher.start();
    for (let seq = 0; seq < 15; seq++) outbox.enqueue([reading("m1", seq)]);
    expect(outbox.pending()).toBe(10);
    expect(await counted.registry.getSingleMetricAsString("dlms_bridge_outbox_dropped_total")).toMatch(/ 5$/m);

    proxy.unblock();
    await waitFor(() => sub.messages.length >= 10 && outbox.pending() === 0, "the 10 newest readings");
    const seqs = telemetryOf(sub.messages, "m1");
    expect(seqs.filter((seq, i) => seqs.indexOf(seq) === i)).toEqual([...Array(10).keys()].map((i) => i + 5));
  });

  it("announces online (retained), and the broker sends the last will 'offline' when the connection dies", async () => {
    const { messages } = await subscribe([BRIDGE_STATE_TOPIC]);
    publisher.start();
    await waitFor(() => messages.some((m) => m.payload === "online"), "bridge state online");

    proxy.dropConnections(); // no DISCONNECT: an ungraceful end of the publisher's connection
    await waitFor(() => messages.some((m) => m.payload === "offline"), "the last will");
    await waitFor(() => messages.at(-1)?.payload === "online", "online again after reconnecting");
    expect(messages.map((m) => m.payload)).toEqual(["online", "offline", "online"]);

    const late = await subscribe([BRIDGE_STATE_TOPIC]);
    await waitFor(() => late.messages.length === 1, "the retained state");
    expect(late.messages[0]).toEqual({ topic: BRIDGE_STATE_TOPIC, payload: "online", retain: true });
  });

  it("republishes cached retained messages after a reconnect to a broker that lost them", async () => {
    publisher.start();
    publisher.publishRetained(statusTopic("m1"), statusPayload("m1", false));
    publisher.publishRetained(statusTopic("m1"), statusPayload("m1", true)); // replaces the first
    publisher.publishRetained(statusTopic("m2"), statusPayload("m2", false));
    await waitFor(() => publisher.connected, "connected");

    await broker.restart(); // persistence false: every retained message is gone
    await waitFor(() => publisher.connected, "reconnected");

    const late = await subscribe(["dlms/+/status", BRIDGE_STATE_TOPIC]);
    await waitFor(() => late.messages.length === 3, "three retained messages");
    expect(late.messages.every((m) => m.retain)).toBe(true);
    expect(Object.fromEntries(late.messages.map((m) => [m.topic, m.payload]))).toEqual({
      [BRIDGE_STATE_TOPIC]: "online",
      "dlms/m1/status": '{"meter":"m1","status":"online"}',
      "dlms/m2/status": '{"meter":"m2","status":"offline"}',
    });
  });

  it("on stop drains the outbox, then leaves 'offline' retained", async () => {
    const { messages } = await subscribe(["dlms/+/telemetry"]);
    publisher.start();
    await waitFor(() => publisher.connected, "connected");
    outbox.enqueue(Array.from({ length: 50 }, (_, i) => reading("m1", i)));
    const stopping = publisher.stop(5000);
    outbox.enqueue([reading("m1", 50)]); // still arriving while the poller winds down
    await Promise.all([stopping, publisher.stop(5000)]);
    expect(outbox.pending()).toBe(0);
    await waitFor(() => messages.length === 51, "all readings");

    const late = await subscribe([BRIDGE_STATE_TOPIC]);
    await waitFor(() => late.messages.length === 1, "the retained state");
    expect(late.messages[0]!.payload).toBe("offline");
  });

  it("stopping while the broker is down keeps every reading in the outbox", async () => {
    publisher.start();
    await waitFor(() => publisher.connected, "connected");
    proxy.block();
    await waitFor(() => !publisher.connected, "disconnected");
    outbox.enqueue([reading("m1", 1), reading("m1", 2)]);
    await publisher.stop(200);
    expect(outbox.pending()).toBe(2);
  });
});
