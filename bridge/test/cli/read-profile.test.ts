// `dlms-bridge read` of a load profile against the simulator over TCP: by ISO range (JSON rows) and the newest N
// by entries (table), plus the usage errors that name the culprit.
import { afterEach, describe, expect, it } from "vitest";
import type { CliIo } from "../../src/cli/args.js";
import { runRead } from "../../src/cli/read.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";

const running: RunningSimulator[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
});

async function read(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l) };
  return { code: await runRead(args, io), out, err };
}

const NOW = Date.UTC(2026, 11, 1, 12, 7, 10);

async function sim() {
  const s = await startSimulator({ port: 0, now: () => NOW, profilePeriodSeconds: 60, profileHistoryMs: 3_600_000 });
  running.push(s);
  return ["--host", "127.0.0.1", "--port", String(s.ports[0]), "--timeout", "2000"];
}

describe("dlms-bridge read of a load profile", () => {
  it("--from/--to prints every row of the range as JSON with the meter's timestamps", async () => {
    const args = await sim();
    const r = await read([
      ...args,
      "--obis",
      "7/1.0.99.1.0.255/2",
      "--from",
      "2026-12-01T11:30:00Z",
      "--to",
      "2026-12-01T12:00:00+00:00",
      "--json",
    ]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const rows = r.out.map((l) => JSON.parse(l) as { ts: number; time: string; values: Record<string, number> });
    expect(rows).toHaveLength(31);
    expect(rows[0]).toMatchObject({ ts: Date.UTC(2026, 11, 1, 11, 30), time: "2026-12-01T11:30:00+00:00" });
    expect(Object.keys(rows[0]!.values)).toEqual(["3/1.0.1.8.0.255/2 [Wh]", "3/1.0.1.7.0.255/2 [W]"]);
    expect(rows.at(-1)!.ts).toBe(Date.UTC(2026, 11, 1, 12, 0));
  });

  it("--last N prints the newest N rows as a table", async () => {
    const args = await sim();
    const r = await read([...args, "--obis", "7/1.0.99.1.0.255/2", "--last", "3"]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe("time (meter)\tts (UTC)\t3/1.0.1.8.0.255/2 [Wh]\t3/1.0.1.7.0.255/2 [W]");
    expect(r.out.slice(1).map((l) => l.split("\t")[1])).toEqual([
      "2026-12-01T12:05:00.000Z",
      "2026-12-01T12:06:00.000Z",
      "2026-12-01T12:07:00.000Z",
    ]);
  });

  it.each([
    [["--from", "yesterday"], /--from 'yesterday' is not an ISO 8601/],
    [["--from", "2026-12-02", "--to", "2026-12-01"], /--to 2026-12-01 is before --from 2026-12-02/],
    [["--from", "2026-12-01", "--last", "2"], /exclude each other/],
  ])("refuses %j", async (extra, message) => {
    const r = await read(["--host", "127.0.0.1", "--obis", "7/1.0.99.1.0.255/2", ...extra]);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toMatch(message);
  });

  it("refuses a range on an object that is not a profile", async () => {
    const r = await read(["--host", "127.0.0.1", "--obis", "1.0.1.8.0.255", "--last", "2"]);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toMatch(/give --obis 7\/<OBIS>\/2/);
  });
});
