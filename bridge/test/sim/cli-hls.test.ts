// `sim --auth hls-gmac`: keys from flags or (preferably) the environment, bad keys named but never echoed.
import { describe, expect, it } from "vitest";
import { buildSimOptions } from "../../src/cli/sim.js";

const AK = "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF";
const EK = "B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF";
const hex = (b: Uint8Array | undefined) =>
  Buffer.from(b ?? [])
    .toString("hex")
    .toUpperCase();

describe("sim --auth hls-gmac", () => {
  it("takes the keys from SIM_AUTH_KEY / SIM_BLOCK_KEY, the system title as ASCII or hex, and the faults", () => {
    const o = buildSimOptions(
      { auth: "hls-gmac", "system-title": "METER001", "fault-bad-tag": true },
      { SIM_AUTH_KEY: AK, SIM_BLOCK_KEY: EK },
    );
    expect(o.auth).toBe("hls-gmac");
    expect(hex(o.hls?.authKey)).toBe(AK);
    expect(hex(o.hls?.blockKey)).toBe(EK);
    expect(hex(o.hls?.systemTitle)).toBe("4D45544552303031");
    expect(o.hls).toMatchObject({ badTag: true, replayCounter: false });
    const flags = buildSimOptions({
      auth: "hls-gmac",
      "auth-key": AK,
      "block-key": EK,
      "system-title": "4D4D4D0000BC614E",
    });
    expect(hex(flags.hls?.systemTitle)).toBe("4D4D4D0000BC614E");
  });
  it("refuses missing or malformed keys without echoing them", () => {
    expect(() => buildSimOptions({ auth: "hls-gmac" }, {})).toThrow(/needs --auth-key and --block-key/);
    let message = "";
    try {
      buildSimOptions({ auth: "hls-gmac" }, { SIM_AUTH_KEY: `${AK}00`, SIM_BLOCK_KEY: EK });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/--auth-key must be 32 hex digits/);
    expect(message.toUpperCase()).not.toContain(AK);
    expect(() =>
      buildSimOptions({ auth: "hls-gmac", "system-title": "SHORT" }, { SIM_AUTH_KEY: AK, SIM_BLOCK_KEY: EK }),
    ).toThrow(/--system-title must be 16 hex digits or 8 ASCII characters/);
  });
});
