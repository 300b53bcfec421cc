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

  it("puts meter, ts and every value at the top level of the telemetry JSON", () => {
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
      voltage: 230.1,
      active_energy: 12_345.678,
      current: -0.5,
    });
  });

  it("refuses values JSON cannot carry and keys that would overwrite meter/ts, naming them", () => {
    expect(() => telemetryPayload({ meter: "m1", ts: 1, values: { voltage: Number.NaN } })).toThrow(
      "reading of meter 'm1': value of 'voltage' is not a finite number (NaN)",
    );
    expect(() => telemetryPayload({ meter: "m1", ts: 1, values: { ts: 5 } })).toThrow("key 'ts' is reserved");
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
