import { describe, expect, it } from "vitest";
import { parseObis } from "../../../src/dlms/cosem/obis.js";
import { describeObis } from "../../../src/dlms/cosem/obis-names.js";

describe("describeObis", () => {
  it.each([
    ["1.0.32.7.0.255", "L1 voltage, instantaneous value"],
    ["1.0.52.7.0.255", "L2 voltage, instantaneous value"],
    ["1.0.71.7.0.255", "L3 current, instantaneous value"],
    ["1.0.12.7.0.255", "voltage, instantaneous value"],
    ["1.0.14.7.0.255", "frequency, instantaneous value"],
    ["1.0.1.7.0.255", "Σ active import (+A), instantaneous value"],
    ["1.0.1.8.0.255", "Σ active import (+A), time integral 1"],
    ["1.0.2.8.1.255", "Σ active export (-A), time integral 1, tariff 1"],
    ["1.0.1.8.0.3", "Σ active import (+A), time integral 1, billing period 3"],
    ["1.1.21.25.0.255", "L1 active import (+A), processing 25 (channel 1)"],
    ["1.0.91.7.0.255", "neutral current, instantaneous value"],
    ["1.0.99.1.0.255", "load profile 1"],
    ["0.0.1.0.0.255", "clock"],
    ["0.0.40.0.0.255", "current association"],
    ["0.0.40.0.3.255", "association 3"],
    ["0.0.42.0.0.255", "COSEM logical device name"],
    ["0.0.96.1.0.255", "device ID 1 (serial number)"],
    ["0.0.99.98.1.255", "event log 1"],
  ])("%s -> %s", (obis, name) => {
    expect(describeObis(obis)).toBe(name);
  });

  it("accepts the 6 bytes of a logical name", () => {
    expect(describeObis(parseObis("1-0:32.7.0"))).toBe("L1 voltage, instantaneous value");
  });

  it.each(["0.0.200.0.0.255", "1.0.17.7.0.255", "7.0.1.8.0.255", "1.0.96.1.0.255", "0.1.1.0.0.255"])(
    "is undefined for %s",
    (obis) => {
      expect(describeObis(obis)).toBeUndefined();
    },
  );
});
