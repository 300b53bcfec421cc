import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Outbox, OutboxWriter } from "../../src/outbox/index.js";
import { deliveryHooks } from "../../src/publish/delivery-hooks.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { tempDbPath } from "../store/temp-db.js";
import { waitFor } from "./helpers.js";

describe("deliveryHooks", () => {
  let temp: ReturnType<typeof tempDbPath>;
  let db: Db;
  beforeEach(() => {
    temp = tempDbPath();
    db = openDatabase(temp.path);
  });
  afterEach(async () => {
    await db.close();
    temp.cleanup();
  });

  it("stores readings in the outbox and hands attributes and reachability to the gateway presence", async () => {
    const outbox = new Outbox(db, { maxRows: 100 });
    const writer = new OutboxWriter(outbox);
    const calls: unknown[][] = [];
    const errors: object[] = [];
    const hooks = deliveryHooks(
      writer,
      {
        online: (meter) => calls.push(["online", meter]),
        offline: (meter) => calls.push(["offline", meter]),
        attributes: (meter, attrs) => calls.push(["attributes", meter, attrs]),
      },
      { error: (details: object) => errors.push(details) },
    );
    hooks.onMeterStatus("m1", true);
    hooks.onReading({ meter: "m1", ts: 5, values: { voltage: 230 } });
    hooks.onAttributes("m1", { serial_number: "123" });
    hooks.onMeterStatus("m1", false);
    await writer.flush();

    expect(outbox.peek(10).map((row) => [row.topic, row.payload])).toEqual([
      ["dlms/m1/telemetry", '{"meter":"m1","ts":5,"values":{"voltage":230}}'],
    ]);
    expect(calls).toEqual([
      ["online", "m1"],
      ["attributes", "m1", { serial_number: "123" }],
      ["offline", "m1"],
    ]);
    expect(errors).toEqual([]);
  });

  it("logs a reading the outbox refuses, naming the meter, without throwing into the engine", async () => {
    const outbox = new Outbox(db, { maxRows: 100 });
    const errors: Array<Record<string, unknown>> = [];
    const hooks = deliveryHooks(
      new OutboxWriter(outbox),
      { online: () => {}, offline: () => {}, attributes: () => {} },
      { error: (details: object) => errors.push(details as Record<string, unknown>) },
    );
    hooks.onReading({ meter: "m9", ts: 5, values: { voltage: Number.NaN } });
    await waitFor(() => errors.length === 1, "the error log");
    expect(errors[0]).toMatchObject({ meter: "m9", ts: 5 });
    expect(outbox.pending()).toBe(0);
  });
});
