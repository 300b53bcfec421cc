import { describe, expect, it } from "vitest";
import {
  attributesPayload,
  attributesTopic,
  BRIDGE_STATE_TOPIC,
  statusPayload,
  statusTopic,
  telemetryPayload,
  telemetryTopic,
} from "../../src/publish/payloads.js";

describe("payloads (docs/contracts.md)", () => {
  it("builds the topics of a meter", () => {
    expect(telemetryTopic("plant-1")).toBe("dlms/plant-1/telemetry");
    expect(attributesTopic("plant-1")).toBe("dlms/plant-1/attributes");
    expect(statusTopic("plant_1")).toBe("dlms/plant_1/status");
    expect(BRIDGE_STATE_TOPIC).toBe("dlms/bridge/state");
  });

  it.each(["a/b", "+", "#", "Upper", ""])("refuses meter id '%s' as a topic level", (meter) => {
    expect(() => telemetryTopic(meter)).toThrow(`meter id '${meter}'`);
  });

  it("puts meter and ts at the top level and the values under 'values' (the gateway's {ts, values} form)", () => {
    const payload = telemetryPayload({
      meter: "m1",
      ts: 1_700_000_000_123,
      values: { voltage: 230.1, active_energy: 12_345.678, current: -0.5 },
      units: { voltage: "V" },
      errors: { frequency: "object-undefined" },
    });
    expect(JSON.parse(payload)).toEqual({
      meter: "m1",
      ts: 1_700_000_000_123,
      values: { voltage: 230.1, active_energy: 12_345.678, current: -0.5 },
    });
    // Any key is a value, even one named like a top-level field.
    expect(JSON.parse(telemetryPayload({ meter: "m1", ts: 5, values: { ts: 7, foo: 1 } })).values).toEqual({
      ts: 7,
      foo: 1,
    });
  });

  it("refuses values JSON cannot carry, a reading without values and a ts the gateway would ignore, naming them", () => {
    expect(() => telemetryPayload({ meter: "m1", ts: 1, values: { voltage: Number.NaN } })).toThrow(
      "reading of meter 'm1': value of 'voltage' is not a finite number (NaN)",
    );
    // {"values":{}} or "ts":0 are falsy in Python: the gateway would send meter/ts/values as telemetry keys.
    expect(() => telemetryPayload({ meter: "m1", ts: 1, values: {} })).toThrow("reading of meter 'm1' has no values");
    expect(() => telemetryPayload({ meter: "m1", ts: 0, values: { voltage: 1 } })).toThrow(
      "reading of meter 'm1': ts is not a positive integer of ms (0)",
    );
    expect(() => telemetryPayload({ meter: "m1", ts: 1.5, values: { voltage: 1 } })).toThrow("(1.5)");
  });

  it("builds attributes and status payloads with the meter id that cannot be overridden", () => {
    expect(JSON.parse(attributesPayload("m1", { meter: "evil", serial_number: "123", unit_voltage: "V" }))).toEqual({
      meter: "m1",
      serial_number: "123",
      unit_voltage: "V",
    });
    expect(statusPayload("m1", true)).toBe('{"meter":"m1","status":"online"}');
    expect(statusPayload("m1", false)).toBe('{"meter":"m1","status":"offline"}');
  });
});
