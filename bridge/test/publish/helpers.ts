import mqtt, { type MqttClient } from "mqtt";

/** Resolves when `condition` holds, checking every 20 ms; rejects with `what` after timeoutMs. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

/** An mqtt.js subscriber recording every message it receives. */
export async function subscriber(url: string, topics: string[]): Promise<{ client: MqttClient; messages: Received[] }> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 100, clean: true });
  const messages: Received[] = [];
  client.on("message", (topic, payload, packet) => {
    messages.push({ topic, payload: payload.toString(), retain: packet.retain });
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return { client, messages };
}
