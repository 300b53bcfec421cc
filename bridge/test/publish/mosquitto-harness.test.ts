import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MosquittoHandle, startMosquitto } from "../helpers/mosquitto.js";

describe("startMosquitto harness", () => {
  let broker: MosquittoHandle;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker.stop();
  });

  async function roundTrip(topic: string, payload: string): Promise<string> {
    const client = await mqtt.connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      const received = new Promise<string>((resolve) => client.on("message", (_t, p) => resolve(p.toString())));
      await client.subscribeAsync(topic, { qos: 1 });
      await client.publishAsync(topic, payload, { qos: 1 });
      return await received;
    } finally {
      await client.endAsync();
    }
  }

  it("delivers messages, and again after a restart on the same port", async () => {
    expect(await roundTrip("t/one", "first")).toBe("first");
    const port = broker.port;
    await broker.restart();
    expect(broker.port).toBe(port);
    expect(await roundTrip("t/two", "second")).toBe("second");
  });

  it("refuses connections while killed", async () => {
    await broker.kill();
    await expect(mqtt.connectAsync(broker.url, { reconnectPeriod: 0, connectTimeout: 1000 })).rejects.toThrow();
    await broker.restart();
    expect(await roundTrip("t/three", "third")).toBe("third");
  });
});
