import { describe, expect, it } from "vitest";
import { ConfigError, parseMeterUrl } from "../../src/config/index.js";
import { defaultProfileKey } from "../../src/config/profiles.js";

const url = (query: string) => `hdlc://10.0.0.5:4059?${query}`;

describe("profile=, profile_keys=, backfill= in a meter URL", () => {
  it("profile=default is 1-0:99.1.0 with a 7-day backfill and default keys", () => {
    expect(parseMeterUrl("a", url("profile=default")).profiles).toEqual([
      { obis: "1.0.99.1.0.255", keys: {}, backfillMs: 7 * 86_400_000 },
    ]);
  });

  it("several profiles, explicit keys and backfill apply to each", () => {
    const m = parseMeterUrl(
      "a",
      url("profile=1-0:99.1.0,1-0:99.2.0&profile_keys=import:1-0:1.8.0,export:1.0.2.8.0.255&backfill=2d"),
    );
    const keys = { "1.0.1.8.0.255": "import", "1.0.2.8.0.255": "export" };
    expect(m.profiles).toEqual([
      { obis: "1.0.99.1.0.255", keys, backfillMs: 2 * 86_400_000 },
      { obis: "1.0.99.2.0.255", keys, backfillMs: 2 * 86_400_000 },
    ]);
  });

  it("no profile= means no backfill at all", () => {
    expect(parseMeterUrl("a", url("interval=10s")).profiles).toBeUndefined();
  });

  it.each([
    ["backfill=1d", /METER_a: profile_keys and backfill need profile=/],
    ["profile=1-0:99.1.0,default", /profile default is listed twice/],
    ["profile=99.1", /METER_a: profile '99.1'/],
    ["profile=default&backfill=soon", /backfill 'soon' is not a duration/],
    ["profile=default&profile_keys=1x:1-0:1.8.0", /profile_keys: register key '1x'/],
    ["profile=default&profile_keys=a:1-0:1.8.0,b:1-0:1.8.0", /profile_keys: 1.0.1.8.0.255 is mapped twice/],
  ])("%s is refused naming the culprit", (query, message) => {
    expect(() => parseMeterUrl("a", url(query))).toThrow(ConfigError);
    expect(() => parseMeterUrl("a", url(query))).toThrow(message);
  });
});

describe("default telemetry key of a captured register", () => {
  it.each([
    ["1.0.1.8.0.255", "active_energy"],
    ["1.1.1.8.0.255", "active_energy"], // Microstar channel 1
    ["1.0.1.7.0.255", "active_power"],
    ["1.0.32.7.0.255", "voltage"],
    ["1.0.2.8.0.255", "obis_1_0_2_8_0_255"],
  ])("%s -> %s", (obis, key) => {
    expect(defaultProfileKey(obis)).toBe(key);
  });
});
