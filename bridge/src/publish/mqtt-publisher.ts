// Drains the durable outbox to the broker with QoS 1, in id order, deleting a row only after its PUBACK.
// While the broker is unreachable nothing is dropped here: rows wait in the outbox (bounded there) and mqtt.js
// reconnects forever. Messages still awaiting PUBACK when a connection breaks are re-sent by mqtt.js first on
// reconnect, so per-meter order holds. Retained messages (the bridge state) are cached and republished after every
// (re)connect, since a broker without persistence forgets them. Topics that older versions published retained
// (clearRetained) are watched after each connect and any retained message found there is deleted.
import { readFileSync } from "node:fs";
import mqtt, { type MqttClient } from "mqtt";
import type { MqttConfig } from "../config/load.js";
import type { Logger } from "../log.js";
import type { BridgeMetrics } from "../metrics/registry.js";
import type { Outbox, OutboxMessage, OutboxRow } from "../outbox/outbox.js";
import { BRIDGE_STATE_TOPIC } from "./payloads.js";

export interface MqttPublisherOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string; // SECRET
  /** CA certificate (PEM) for mqtts:// / wss://. */
  ca?: string | Buffer;
  /** QoS 1 messages awaiting PUBACK at once (default 64). */
  inFlightWindow?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  keepaliveSeconds?: number;
  /**
   * Topic filters where no message may stay retained: after each connect the publisher subscribes to them and
   * clears (empty retained payload) every retained message the broker hands over, e.g. left by an older version.
   */
  clearRetained?: readonly string[];
}

export type PublisherMetrics = Pick<BridgeMetrics, "mqttConnected" | "mqttPublishesTotal">;

export interface PublisherHooks {
  /**
   * Deleting acknowledged rows failed (disk full): the outbox keeps their ids and never hands them out again;
   * report it (rate-limited) instead of logging each failure.
   */
  onDeleteFailed?(error: unknown): void;
}

/** What stop() could not hand to the broker. */
export interface PublisherStopResult {
  /** Messages passed to stop() that the broker did not acknowledge. */
  unsent: number;
}

/** Publisher options from the loaded configuration (reads the CA file). */
export function publisherOptions(config: MqttConfig): MqttPublisherOptions {
  return {
    url: config.url,
    clientId: config.clientId,
    ...(config.username !== undefined ? { username: config.username } : {}),
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.caFile !== undefined ? { ca: readFileSync(config.caFile) } : {}),
  };
}

function noLog(): void {}

export class MqttPublisher {
  private client: MqttClient | undefined;
  private readonly window: number;
  private readonly retained = new Map<string, string>();
  /** Highest outbox id handed to mqtt.js; the next peek starts after it. */
  private cursor = 0;
  private inFlight = 0;
  /** A publish failed: once in-flight messages settle, restart from the oldest unacknowledged row. */
  private rewindPending = false;
  private pumping = false;
  private acks: number[] = [];
  private readonly ackListeners = new Set<(ids: readonly number[]) => void>();
  private ackScheduled = false;
  private idleWaiters: Array<() => void> = [];
  private unsubscribeOutbox: (() => void) | undefined;
  private disconnectedSince: number | undefined;
  private lastErrorMessage: string | undefined;
  private stopping = false;
  private stopInProgress: Promise<PublisherStopResult> | undefined;

  constructor(
    private readonly options: MqttPublisherOptions,
    private readonly outbox: Outbox,
    private readonly metrics: PublisherMetrics,
    private readonly log: Logger,
    private readonly hooks: PublisherHooks = {},
  ) {
    this.window = options.inFlightWindow ?? 64;
    if (!Number.isInteger(this.window) || this.window < 1) {
      throw new Error(`inFlightWindow must be a positive integer, got ${options.inFlightWindow}`);
    }
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  start(): void {
    if (this.client) return;
    // A fresh connection: whatever an earlier one had in flight is re-read from the outbox.
    this.cursor = 0;
    this.inFlight = 0;
    this.rewindPending = false;
    this.stopping = false;
    const { options } = this;
    this.log.info(
      { url: withoutCredentials(options.url), clientId: options.clientId },
      "connecting to the MQTT broker",
    );
    this.metrics.mqttConnected.set(0);
    this.disconnectedSince = Date.now();
    const client = mqtt.connect(options.url, {
      clientId: options.clientId,
      ...(options.username !== undefined ? { username: options.username } : {}),
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.ca !== undefined ? { ca: options.ca } : {}),
      protocolVersion: 4,
      clean: true,
      resubscribe: false, // onConnect subscribes to the clearRetained filters itself
      keepalive: options.keepaliveSeconds ?? 30,
      reconnectPeriod: options.reconnectPeriodMs ?? 2000,
      connectTimeout: options.connectTimeoutMs ?? 10_000,
      will: { topic: BRIDGE_STATE_TOPIC, payload: Buffer.from("offline"), qos: 1, retain: true },
      // mqtt.js logs through `debug`, whose disabled calls still allocate their argument arrays (~2 kB per published
      // reading, measured): a no-op instead, unless DEBUG asks for mqtt.js's own trace.
      ...(/mqttjs/.test(process.env.DEBUG ?? "") ? {} : { log: noLog }),
      // mqtt-packet would otherwise pre-build a Buffer for every 16-bit number (65,536 of them, ≈ 7 MB of heap for
      // the process's life) to save a 2-byte allocation per packet id or topic length.
      writeCache: false,
    });
    this.client = client;
    client.on("connect", () => this.onConnect(client));
    client.on("message", (topic, payload, packet) => this.onMessage(client, topic, payload, packet.retain));
    client.on("close", () => this.onClose());
    client.on("error", (error) => this.onError(error));
    this.unsubscribeOutbox = this.outbox.onEnqueued(() => this.pump());
  }

  /**
   * Caches a retained message (bridge/meter state, attributes) and publishes it now if connected; it is published
   * again after every reconnect. A later call for the same topic replaces it.
   */
  publishRetained(topic: string, payload: string): void {
    this.retained.set(topic, payload);
    if (this.client?.connected) this.sendRetained(this.client, topic, payload);
  }

  /**
   * Calls `listener` with the outbox ids of rows the broker acknowledged (deleted, or kept for a retried delete when
   * the disk refuses it); returns the unsubscribe function.
   */
  onAcked(listener: (ids: readonly number[]) => void): () => void {
    this.ackListeners.add(listener);
    return () => this.ackListeners.delete(listener);
  }

  /**
   * Keeps draining for up to flushTimeoutMs while connected, publishes bridge state "offline" and disconnects.
   * Rows not acknowledged stay in the outbox for the next start. `direct` are messages that could not be stored
   * (the disk refused them): once the outbox has drained (so order holds) they are published as they are and
   * their PUBACKs awaited within the same deadline; the result counts those not acknowledged.
   */
  stop(flushTimeoutMs = 5000, direct: readonly OutboxMessage[] = []): Promise<PublisherStopResult> {
    if (this.stopInProgress) return this.stopInProgress;
    const stopping = this.shutdown(flushTimeoutMs, direct).finally(() => {
      this.stopInProgress = undefined;
    });
    this.stopInProgress = stopping;
    return stopping;
  }

  private async shutdown(flushTimeoutMs: number, direct: readonly OutboxMessage[]): Promise<PublisherStopResult> {
    const client = this.client;
    if (!client) return { unsent: direct.length };
    this.stopping = true;
    const deadline = Date.now() + flushTimeoutMs;
    let drained = false;
    let unsent = direct.length;
    if (client.connected) {
      drained = await withTimeout(this.waitUntilIdle(), flushTimeoutMs);
      if (drained && direct.length > 0) {
        let acked = 0;
        const sends = direct.map((m) =>
          client.publishAsync(m.topic, m.payload, { qos: 1 }).then(() => {
            acked++;
            this.metrics.mqttPublishesTotal.inc({ result: "ok" });
          }),
        );
        drained = await withTimeout(Promise.all(sends), Math.max(500, deadline - Date.now()));
        unsent = direct.length - acked;
      }
      const offline = client.publishAsync(BRIDGE_STATE_TOPIC, "offline", { qos: 1, retain: true });
      drained = (await withTimeout(offline, Math.max(500, deadline - Date.now()))) && drained;
    }
    this.unsubscribeOutbox?.();
    // end(false) sends DISCONNECT (no last will) but waits for every PUBACK; force when some will never come.
    await new Promise<void>((resolve) => client.end(!drained, {}, () => resolve()));
    this.flushAcks();
    this.client = undefined;
    this.metrics.mqttConnected.set(0);
    this.log.info({ pending: this.outbox.pending(), drained }, "MQTT publisher stopped");
    return { unsent };
  }

  private onConnect(client: MqttClient): void {
    this.metrics.mqttConnected.set(1);
    const outageMs = this.disconnectedSince === undefined ? 0 : Date.now() - this.disconnectedSince;
    this.disconnectedSince = undefined;
    this.lastErrorMessage = undefined;
    this.log.info({ pending: this.outbox.pending(), outageMs }, "connected to the MQTT broker");
    this.sendRetained(client, BRIDGE_STATE_TOPIC, "online");
    for (const [topic, payload] of this.retained) this.sendRetained(client, topic, payload);
    const filters = this.options.clearRetained ?? [];
    if (filters.length > 0) {
      client.subscribe([...filters], { qos: 1 }, (error, granted) => {
        const refused = error ? filters : (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) {
          this.log.warn(
            { topics: refused, err: error ? { message: error.message } : undefined },
            "cannot subscribe to look for old retained messages; clear them by hand (mosquitto_pub -r -n -t <topic>)",
          );
        }
      });
    }
    this.pump();
  }

  /** A retained message on a clearRetained topic (an older version's): delete it. Live messages are ignored. */
  private onMessage(client: MqttClient, topic: string, payload: Buffer, retain: boolean): void {
    if (!retain || payload.length === 0) return;
    this.log.info({ topic }, "clearing a retained message left by an older version");
    client.publish(topic, "", { qos: 1, retain: true }, (error) => {
      if (error) this.log.warn({ topic, err: { message: error.message } }, "could not clear a retained message");
    });
  }

  private onClose(): void {
    this.metrics.mqttConnected.set(0);
    if (this.stopping || this.disconnectedSince !== undefined) return; // shutting down, or the same outage
    this.disconnectedSince = Date.now();
    this.log.warn({ pending: this.outbox.pending() }, "MQTT broker connection lost; readings wait in the outbox");
  }

  private onError(error: Error): void {
    // Connection errors repeat on every retry: log each distinct one once per outage.
    if (error.message === this.lastErrorMessage) return;
    this.lastErrorMessage = error.message;
    this.log.error({ err: { message: error.message, code: (error as { code?: unknown }).code } }, "MQTT error");
  }

  private sendRetained(client: MqttClient, topic: string, payload: string): void {
    client.publish(topic, payload, { qos: 1, retain: true }, (error) => {
      this.metrics.mqttPublishesTotal.inc({ result: error ? "error" : "ok" });
      if (error) this.log.warn({ topic, err: { message: error.message } }, "retained publish failed");
    });
  }

  /** Hands the next rows to mqtt.js while connected and the in-flight window has room. */
  private pump(): void {
    const client = this.client;
    if (!client?.connected || this.pumping) return;
    this.pumping = true;
    try {
      if (this.rewindPending && this.inFlight === 0) {
        this.flushAcks();
        this.cursor = 0;
        this.rewindPending = false;
      }
      while (!this.rewindPending && this.inFlight < this.window) {
        const rows = this.outbox.peek(this.window - this.inFlight, this.cursor);
        if (rows.length === 0) break;
        for (const row of rows) this.send(client, row);
      }
    } catch (error) {
      this.log.error({ err: { message: (error as Error).message } }, "cannot read the outbox");
    } finally {
      this.pumping = false;
    }
    this.notifyIfIdle();
  }

  private send(client: MqttClient, row: OutboxRow): void {
    this.cursor = row.id;
    this.inFlight++;
    client.publish(row.topic, row.payload, { qos: 1 }, (error) => {
      if (client !== this.client) return; // a callback from a connection stop() has ended
      this.inFlight--;
      if (error) {
        this.metrics.mqttPublishesTotal.inc({ result: "error" });
        this.log.warn({ topic: row.topic, err: { message: error.message } }, "publish failed; will resend");
        this.rewindPending = true;
      } else {
        this.metrics.mqttPublishesTotal.inc({ result: "ok" });
        this.queueAck(row.id);
      }
      this.pump();
    });
  }

  /** PUBACKs arriving together are deleted in one transaction. */
  private queueAck(id: number): void {
    this.acks.push(id);
    if (this.ackScheduled) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      this.flushAcks();
      this.notifyIfIdle();
    });
  }

  private flushAcks(): void {
    if (this.acks.length === 0) return;
    const ids = this.acks;
    this.acks = [];
    try {
      this.outbox.ack(ids);
    } catch (error) {
      // The outbox keeps the ids and retries the delete; only a restart before it succeeds re-sends the rows.
      if (this.hooks.onDeleteFailed) this.hooks.onDeleteFailed(error);
      else this.log.error({ err: { message: (error as Error).message }, rows: ids.length }, "cannot delete acked rows");
    }
    for (const listener of this.ackListeners) listener(ids);
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && this.acks.length === 0 && this.outbox.pending() === 0;
  }

  private notifyIfIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private waitUntilIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** The URL with any user:password@ removed (config refuses them, but the publisher may be built directly). */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(unparsable URL)";
  }
}

/** True if `promise` settled successfully within `ms`. */
async function withTimeout(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
