// A model of the ThingsBoard IoT gateway 3.8.x MQTT connector's device bookkeeping, run as a real MQTT client
// against a real Mosquitto. It subscribes exactly as tb-gateway/config/mqtt.json says (topic filters, QoS, client
// id, clean session), so a change of that file changes what it sees. Rules, from the gateway's source
// (mqtt_connector.py `_process_on_message`, tb_gateway_service.py `__send_to_storage_new_formatted_data` /
// `add_device` / `del_device` / SIGINT handler) and measured (../shared/docs/thingsboard-gateway-facts.md):
// - a topic of dataMapping is data: converted (gateway-converter.ts) and stored after the data path's delay
//   (converter workers + storage thread, ~0.3 s measured); storing data of a device not connected connects it;
// - otherwise a connectRequests topic connects at once, a disconnectRequests topic disconnects at once;
// - SIGINT stop: a disconnect for every connected device and an empty state file; a hard kill keeps the state
//   file, whose devices are connected again at the next start; messages still in the data path are lost;
// - at (re)start it subscribes again, and the broker redelivers every retained message on those filters.
import mqtt, { type MqttClient } from "mqtt";
import { readJson, topicMatches } from "../stack/stack-files.js";
import { type ConverterConfig, convertJson, hasDatapoints } from "./gateway-converter.js";

interface ConnectorFile {
  broker: { clientId: string; cleanSession: boolean; version: number };
  dataMapping: Array<{ topicFilter: string; subscriptionQos?: number; converter: ConverterConfig }>;
  requestsMapping: {
    connectRequests: Array<{
      topicFilter: string;
      subscriptionQos?: number;
      deviceInfo: { deviceNameExpression: string };
    }>;
    disconnectRequests: Array<{
      topicFilter: string;
      subscriptionQos?: number;
      deviceInfo: { deviceNameExpression: string };
    }>;
  };
}

export interface GatewayEvent {
  at: number;
  kind: "connect" | "disconnect";
  device: string;
  /** What caused it: "data" (storage add_device), "request", "restart" (state file), "stop" (SIGINT). */
  cause: "data" | "request" | "restart" | "stop";
}

export interface GatewayModelOptions {
  /** Delay of the data path (converter + storage) in ms; 300 as measured. */
  dataPathMs?: number;
}

/** `${name}` of a deviceNameExpression resolved in a JSON payload; undefined when absent or not JSON. */
function deviceNameOf(expression: string, payload: Buffer): string | undefined {
  const name = /^\$\{([^}]+)\}$/.exec(expression)?.[1];
  try {
    const body = JSON.parse(payload.toString()) as Record<string, unknown>;
    return name !== undefined && typeof body[name] === "string" ? (body[name] as string) : undefined;
  } catch {
    return undefined;
  }
}

export class GatewayModel {
  readonly config = readJson<ConnectorFile>("tb-gateway", "config", "mqtt.json");
  /** The gateway's connected devices (connected_devices.json). */
  readonly connected = new Set<string>();
  readonly events: GatewayEvent[] = [];
  /** What ThingsBoard holds per device: client attributes and telemetry, as the gateway sent them. */
  readonly attributes = new Map<string, Record<string, unknown>>();
  readonly telemetry = new Map<string, Array<{ ts: number; values: Record<string, unknown> }>>();
  private client: MqttClient | undefined;
  private readonly inDataPath = new Set<ReturnType<typeof setTimeout>>();
  private readonly dataPathMs: number;

  constructor(
    private readonly url: string,
    options: GatewayModelOptions = {},
  ) {
    this.dataPathMs = options.dataPathMs ?? 300;
  }

  /** Connects (clean session as configured) and subscribes every filter, as the connector's on_connect does. */
  async start(): Promise<void> {
    // A hard kill left devices in the state file: the gateway connects them again at start.
    for (const device of this.connected) this.record("connect", device, "restart");
    const { broker, dataMapping, requestsMapping } = this.config;
    const client = mqtt.connect(this.url, {
      clientId: broker.clientId,
      clean: broker.cleanSession,
      protocolVersion: broker.version as 4 | 5,
      reconnectPeriod: 100,
      resubscribe: false,
    });
    client.on("message", (topic, payload) => this.onMessage(topic, payload));
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    });
    const filters = [...dataMapping, ...requestsMapping.connectRequests, ...requestsMapping.disconnectRequests];
    for (const f of filters) await client.subscribeAsync(f.topicFilter, { qos: (f.subscriptionQos ?? 1) as 0 | 1 });
  }

  /** SIGINT (graceful): disconnects every device and empties the state; otherwise a hard kill keeping it. */
  async stop(graceful: boolean): Promise<void> {
    for (const timer of this.inDataPath) clearTimeout(timer); // acknowledged to the broker, not yet stored: lost
    this.inDataPath.clear();
    if (graceful) for (const device of [...this.connected]) this.disconnect(device, "stop");
    // Drop the connection without touching the session: Mosquitto keeps it and queues QoS 1 messages meanwhile.
    await this.client?.endAsync(true);
    this.client = undefined;
  }

  isConnected(device: string): boolean {
    return this.connected.has(device);
  }

  eventsOf(device: string): GatewayEvent[] {
    return this.events.filter((e) => e.device === device);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const { dataMapping, requestsMapping } = this.config;
    const mappings = dataMapping.filter((m) => topicMatches(m.topicFilter, topic));
    if (mappings.length > 0) {
      let body: unknown;
      try {
        body = JSON.parse(payload.toString());
      } catch {
        return; // e.g. an empty payload clearing a retained message: the converter logs an error, sends nothing
      }
      const receivedAt = Date.now();
      for (const mapping of mappings) {
        const converted = convertJson(mapping.converter, body, receivedAt);
        if (!hasDatapoints(converted) || converted.deviceName === undefined) continue;
        const timer = setTimeout(() => {
          this.inDataPath.delete(timer);
          this.store(converted.deviceName!, converted.attributes, converted.telemetry);
        }, this.dataPathMs);
        this.inDataPath.add(timer);
      }
      return;
    }
    for (const request of requestsMapping.connectRequests.filter((r) => topicMatches(r.topicFilter, topic))) {
      const device = deviceNameOf(request.deviceInfo.deviceNameExpression, payload);
      if (device !== undefined && !this.connected.has(device)) this.connect(device, "request");
      return;
    }
    for (const request of requestsMapping.disconnectRequests.filter((r) => topicMatches(r.topicFilter, topic))) {
      const device = deviceNameOf(request.deviceInfo.deviceNameExpression, payload);
      if (device !== undefined && this.connected.has(device)) this.disconnect(device, "request");
      return;
    }
  }

  private store(
    device: string,
    attributes: Record<string, unknown>,
    telemetry: Array<{ ts: number; values: Record<string, unknown> }>,
  ): void {
    if (!this.connected.has(device)) this.connect(device, "data");
    this.attributes.set(device, { ...this.attributes.get(device), ...attributes });
    const series = this.telemetry.get(device) ?? [];
    series.push(...telemetry.filter((t) => Object.keys(t.values).length > 0));
    this.telemetry.set(device, series);
  }

  private connect(device: string, cause: GatewayEvent["cause"]): void {
    this.connected.add(device);
    this.record("connect", device, cause);
  }

  private disconnect(device: string, cause: GatewayEvent["cause"]): void {
    this.connected.delete(device);
    this.record("disconnect", device, cause);
  }

  private record(kind: GatewayEvent["kind"], device: string, cause: GatewayEvent["cause"]): void {
    this.events.push({ at: Date.now(), kind, device, cause });
  }
}
