// The poller's HLS-GMAC sessions against the simulator over TCP: the counter comes from the store (here a real
// SQLite file), ic=auto starts from the meter's counter object, and without it the meter's invocation-counter
// refusal raises the counter so the next association succeeds. Each failure is counted by its check.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SecurityFailureError } from "../../src/client/errors.js";
import { parseMeterUrl } from "../../src/config/meter-url.js";
import { fromHex } from "../../src/dlms/codec/hex.js";
import { createDlmsSessionFactory } from "../../src/poller/dlms-session.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { type Db, openDatabase } from "../../src/store/db.js";
import { hlsSupport } from "../../src/store/invocation-counters.js";

const AK = "A0A1A2A3A4A5A6A7A8A9AAABACADAEAF";
const EK = "B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF";
const keyEnv = { METER_M_AUTH_KEY: AK, METER_M_BLOCK_KEY: EK };
let sim: RunningSimulator | undefined;
let db: Db | undefined;
afterEach(async () => {
  await sim?.close();
  await db?.close();
});

async function setup() {
  sim = await startSimulator({ port: 0, auth: "hls-gmac", hls: { authKey: fromHex(AK), blockKey: fromHex(EK) } });
  // The meter has already seen counters up to 5000 from this client (another bridge, a handheld tool...).
  sim.meters[0]!.security.clientCounters.set(1, 5000);
  db = openDatabase(join(mkdtempSync(join(tmpdir(), "hls-session-")), "bridge.db"));
  const failures: string[] = [];
  const factory = createDlmsSessionFactory({ hls: hlsSupport(db, (_meter, check) => failures.push(check)) });
  const meter = (ic: string) =>
    parseMeterUrl("M", `hdlc://127.0.0.1:${sim!.ports[0]}?client=1&auth=hls-gmac&timeout=2s&ic=${ic}`, keyEnv);
  return { factory, meter, failures };
}

const VOLTAGE = [{ key: "voltage", obis: "1.0.32.7.0.255", classId: 3, attributeId: 2 }];

describe("HLS-GMAC sessions of the poller", () => {
  it("ic=auto reads the meter's counter object first and associates at once", async () => {
    const { factory, meter, failures } = await setup();
    const session = factory(meter("auto"), {});
    await session.connect();
    const values = await session.readRegisters(VOLTAGE);
    expect(values.voltage).toMatchObject({ unit: "V" });
    await session.release();
    expect(failures).toEqual([]);
    expect(sim!.meters[0]!.security.clientCounters.get(1)!).toBeGreaterThan(5000);
  });

  it("ic=store: the meter's refusal is counted, raises the stored counter, and the next association works", async () => {
    const { factory, meter, failures } = await setup();
    const first = factory(meter("store"), {});
    const error = await first.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecurityFailureError);
    expect((error as SecurityFailureError).check).toBe("invocation-counter");
    expect(failures).toEqual(["invocation-counter"]);
    const second = factory(meter("store"), {});
    await second.connect();
    await second.release();
    const row = db!.sqlite.prepare("SELECT reserved_until FROM invocation_counters").get() as {
      reserved_until: number;
    };
    expect(row.reserved_until).toBeGreaterThan(5001);
  });
});
