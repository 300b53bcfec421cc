// Reading load profiles from the simulator over real TCP: by time range and by entries, over HDLC with small
// frames and PDUs (segmentation + block transfer) and over the wrapper; rows stream out block by block and keep the
// meter's own timestamps across a DST change and with a meter clock that runs 5 minutes ahead.
import { afterEach, describe, expect, it } from "vitest";
import { DlmsClient } from "../../src/client/client.js";
import { type ProfileRowOut, readMeterClock, readProfileInfo, readProfileRows } from "../../src/client/profile.js";
import type { LinkSettings } from "../../src/client/types.js";
import { ClockStatus, dateTimeFromData } from "../../src/dlms/cosem/datetime.js";
import { type RunningSimulator, type SimulatorOptions, startSimulator } from "../../src/sim/server.js";
import { TcpTransport } from "../../src/transport/tcp.js";

const PROFILE = "1.0.99.1.0.255";
const MINUTE = 60_000;
const running: RunningSimulator[] = [];
const clients: DlmsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of running.splice(0)) await s.close();
});

async function connect(options: SimulatorOptions) {
  const sim = await startSimulator({ host: "127.0.0.1", port: 0, ...options });
  running.push(sim);
  const link: LinkSettings =
    options.transport === "wrapper"
      ? { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } }
      : { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 }, maxInfo: 64 };
  const client = new DlmsClient({
    transport: new TcpTransport({ host: "127.0.0.1", port: sim.ports[0]!, connectTimeoutMs: 1000 }),
    link,
    auth: { mechanism: "none" },
    timeoutMs: 3000,
    maxReceivePduSize: 256,
  });
  clients.push(client);
  await client.connect();
  return client;
}

async function collect(client: DlmsClient, selection: Parameters<typeof readProfileRows>[2], deviation = 0) {
  const info = await readProfileInfo(client, PROFILE);
  const batches: ProfileRowOut[][] = [];
  const count = await readProfileRows(client, info, selection, (rows) => batches.push(rows), {
    deviationMinutes: deviation,
  });
  return { info, batches, rows: batches.flat(), count };
}

const NOW = Date.UTC(2026, 11, 1, 12, 0, 30);

describe("load profile reads against the simulator", () => {
  it.each(["hdlc", "wrapper"] as const)(
    "reads a day of 1-minute rows by range over %s, streamed",
    async (transport) => {
      const client = await connect({
        transport,
        now: () => NOW,
        profilePeriodSeconds: 60,
        profileHistoryMs: 86_400_000,
      });
      const from = NOW - 86_400_000;
      const { info, batches, rows, count } = await collect(client, { kind: "range", fromMs: from, toMs: NOW });
      expect(info).toMatchObject({ capturePeriodSeconds: 60, clockColumn: 0, entriesInUse: 1440 });
      expect(info.columns.map((c) => c.scalerUnit?.unit)).toEqual([undefined, "Wh", "W"]);
      const first = Math.ceil(from / MINUTE) * MINUTE;
      expect(count).toBe(1440);
      expect(rows.map((r) => r.ts)).toEqual(Array.from({ length: 1440 }, (_, i) => first + i * MINUTE));
      expect(batches.length).toBeGreaterThan(20); // rows came out with each block, not at the end
      for (let i = 1; i < rows.length; i++) expect(rows[i]!.values[1]!).toBeGreaterThanOrEqual(rows[i - 1]!.values[1]!);
    },
  );

  it("reads selected columns only (selected_values): the meter sends clock and power, energy stays out", async () => {
    const client = await connect({ now: () => NOW, profilePeriodSeconds: 900, profileRows: 96 });
    const info = await readProfileInfo(client, PROFILE);
    const batches: ProfileRowOut[][] = [];
    await readProfileRows(
      client,
      info,
      { kind: "range", fromMs: NOW - 3_600_000, toMs: NOW, columns: [0, 2] },
      (rows) => batches.push(rows),
    );
    const rows = batches.flat();
    expect(rows).toHaveLength(4);
    for (const r of rows) {
      expect(r.ts! % 900_000).toBe(0);
      expect(r.values[1]).toBeUndefined(); // energy not sent
      expect(r.cells[1]).toEqual({ type: "null-data" });
      expect(typeof r.values[2]).toBe("number"); // power
    }
  });

  it("reads the newest N rows by entries", async () => {
    const client = await connect({ now: () => NOW, profilePeriodSeconds: 900, profileRows: 96 });
    const info = await readProfileInfo(client, PROFILE);
    const n = info.entriesInUse!;
    const { rows } = await collect(client, { kind: "entries", from: n - 3, to: n });
    const latest = Math.floor(NOW / 900_000) * 900_000;
    expect(rows.map((r) => r.ts)).toEqual([3, 2, 1, 0].map((k) => latest - k * 900_000));
  });

  it("keeps the meter's timestamps across the end of summer time (CET/CEST)", async () => {
    // 2026-10-25 01:00 UTC: 03:00 CEST becomes 02:00 CET; local 02:00..02:59 occurs twice.
    const change = Date.UTC(2026, 9, 25, 1);
    const now = change + 2 * 3_600_000;
    const client = await connect({
      now: () => now,
      profilePeriodSeconds: 900,
      profileRows: 96,
      clockDeviationMinutes: -60,
      dst: "eu",
    });
    const { rows } = await collect(client, { kind: "range", fromMs: change - 3_600_000, toMs: now }, -60);
    const ts = rows.map((r) => r.ts!);
    expect(ts).toEqual(Array.from({ length: 13 }, (_, i) => change - 3_600_000 + i * 900_000)); // no gap, no repeat
    const before = rows.find((r) => r.ts === change - 900_000)!.clock!;
    const after = rows.find((r) => r.ts === change)!.clock!;
    expect(before).toMatchObject({ hour: 2, minute: 45, deviationMinutes: -120 });
    expect(before.clockStatus! & ClockStatus.daylightSavingActive).toBe(ClockStatus.daylightSavingActive);
    expect(after).toMatchObject({ hour: 2, minute: 0, deviationMinutes: -60, clockStatus: 0 });
  });

  it("a meter clock 5 minutes ahead: rows on the meter's grid, the clock read shows the drift", async () => {
    const client = await connect({ now: () => NOW, profilePeriodSeconds: 900, clockOffsetMs: 5 * MINUTE });
    const clock = await readMeterClock(client);
    expect(clock!.ms - NOW).toBe(5 * MINUTE);
    const { rows } = await collect(client, { kind: "range", fromMs: NOW - 3_600_000, toMs: NOW + 3_600_000 });
    // 12:00:30 real is 12:05:30 on the meter: its 12:00 row exists, its 12:15 row not yet.
    expect(rows.at(-1)!.ts).toBe(Date.UTC(2026, 11, 1, 12, 0));
    expect(rows.every((r) => r.ts! % 900_000 === 0)).toBe(true);
    const raw = dateTimeFromData(rows.at(-1)!.cells[0]!);
    expect(raw).toMatchObject({ hour: 12, minute: 0 });
  });
});
