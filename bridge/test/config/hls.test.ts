// METER_<ID> with auth=hls-gmac: settings from the URL, keys only from METER_<ID>_AUTH_KEY / _BLOCK_KEY, and no
// error ever quotes a key.
import { describe, expect, it } from "vitest";
import type { ConfigError } from "../../src/config/errors.js";
import { loadConfig } from "../../src/config/load.js";
import { parseMeterUrl, withoutSecrets } from "../../src/config/meter-url.js";

const AK = "00112233445566778899AABBCCDDEEFF";
const EK = "FFEEDDCCBBAA99887766554433221100";
const keys = { METER_M1_AUTH_KEY: AK, METER_M1_BLOCK_KEY: EK };

function problems(url: string, env: Record<string, string> = keys): string[] {
  try {
    parseMeterUrl("M1", url, env);
    return [];
  } catch (error) {
    return (error as ConfigError).errors;
  }
}

describe("auth=hls-gmac configuration", () => {
  it("defaults: auth-enc, the bridge's system title, counter from the store; keys kept out of the public config", () => {
    const meter = parseMeterUrl("M1", "hdlc://10.0.0.5:4059?client=1&auth=hls-gmac", keys);
    expect(meter.hls).toEqual({ security: "auth-enc", systemTitle: "444C420000000001", ic: "store" });
    expect(Buffer.from(meter.keys!.ak).toString("hex").toUpperCase()).toBe(AK);
    expect(Buffer.from(meter.keys!.ek).toString("hex").toUpperCase()).toBe(EK);
    expect(JSON.stringify(withoutSecrets(meter))).not.toMatch(/keys|"ak"|"ek"/);
  });
  it("security=, system_title= (ASCII or hex), server_system_title=, ic=auto", () => {
    const meter = parseMeterUrl(
      "M1",
      "hdlc://h:1?auth=hls-gmac&security=auth&system_title=BRIDGE01&server_system_title=4D4D4D0000BC614E&ic=auto",
      keys,
    );
    expect(meter.hls).toEqual({
      security: "auth",
      systemTitle: "4252494447453031",
      serverSystemTitle: "4D4D4D0000BC614E",
      ic: "auto",
    });
  });
  it("refuses keys in the URL, never quoting them", () => {
    const found = problems(`hdlc://h:1?auth=hls-gmac&auth_key=${AK}&block_key=${EK}`);
    expect(found.join("\n")).toMatch(/auth_key= is refused: keys never go in the URL \(set METER_M1_AUTH_KEY/);
    expect(found.join("\n")).toMatch(/block_key= is refused/);
    for (const line of found) expect(line.toUpperCase()).not.toContain(AK);
  });
  it("names a missing or malformed key without showing it", () => {
    const short = problems("hdlc://h:1?auth=hls-gmac", { METER_M1_AUTH_KEY: "ABCDEF", METER_M1_BLOCK_KEY: EK });
    expect(short).toEqual([
      "METER_M1: METER_M1_AUTH_KEY must be 32 hex digits (a 16-byte AES-128 key), got 6 character(s) of which some may not be hex",
    ]);
    expect(problems("hdlc://h:1?auth=hls-gmac", {}).join("\n")).toMatch(
      /needs METER_M1_AUTH_KEY.*\n.*needs METER_M1_BLOCK_KEY/,
    );
  });
  it("rejects bad values and hls settings without auth=hls-gmac", () => {
    expect(problems("hdlc://h:1?auth=hls-gmac&security=none")).toContain(
      "METER_M1: security 'none' is not auth, enc or auth-enc",
    );
    expect(problems("hdlc://h:1?auth=hls-gmac&system_title=SHORT")[0]).toMatch(
      /system_title must be 16 hex digits or 8 ASCII/,
    );
    expect(problems("hdlc://h:1?security=auth")).toContain("METER_M1: security= applies to auth=hls-gmac only");
    expect(problems("hdlc://h:1")).toContain(
      "METER_M1: METER_M1_AUTH_KEY/METER_M1_BLOCK_KEY are set but auth is not hls-gmac",
    );
  });
  it("the key variables are companions of METER_<ID>, not meters", () => {
    const result = loadConfig({
      MQTT_URL: "mqtt://127.0.0.1:1884",
      METER_M1: "hdlc://10.0.0.5:4059?client=1&auth=hls-gmac",
      ...keys,
      METER_GHOST_AUTH_KEY: AK,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors).toContain("METER_GHOST_AUTH_KEY: there is no METER_GHOST for this key");
      expect(result.errors.join("\n").toUpperCase()).not.toContain(AK);
    }
  });
});
