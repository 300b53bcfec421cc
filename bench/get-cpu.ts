// Client CPU per GET on one association: the real DlmsClient over TCP to the simulator in another process, one
// request at a time. CPU is process.cpuUsage() of this process (user+system) over the measured requests, so the
// figure is the client's own work (codec, link, promises, timers, socket syscalls), independent of wall-clock
// noise from other processes on the machine. Also: the old system's pattern (10 GETs per 5-value reading plus a
// re-association every 10 readings) against ours (1 GET-with-list, scaler_unit cached), as a ratio.
// Side by side, the floor: the same process doing bare request/reply round trips of a GET's size over a raw Node
// socket to an echo server in another process (no DLMS at all), so "client CPU" can be read as floor + our share.
// On a VM the floor depends on where the two processes run: `taskset -c 0` pins both to one core.
// Run: make build && node --import tsx bench/get-cpu.ts   (env: GETS=20000 RUNS=3; CPU_PROF=1 for a .cpuprofile)
import type { ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { DlmsClient } from "../bridge/src/client/client.js";
import { readRegisters, ScalerCache } from "../bridge/src/client/reads.js";
import type { LinkSettings } from "../bridge/src/client/types.js";
import type { AttributeRequest } from "../bridge/src/dlms/apdu/types.js";
import { parseObis } from "../bridge/src/dlms/cosem/obis.js";
import type { RegisterSpec } from "../bridge/src/model.js";
import { TcpTransport } from "../bridge/src/transport/tcp.js";
import { CLI, freePort, machineLoad, median, start, stop, waitForPort } from "./lib.js";

const GETS = Number(process.env.GETS ?? 20_000);
const RUNS = Number(process.env.RUNS ?? 3);

const attr = (obis: string, attributeId = 2, classId = 3): AttributeRequest => ({
  classId,
  instanceId: parseObis(obis),
  attributeId,
});
const FIVE = ["1.0.32.7.0.255", "1.0.31.7.0.255", "1.0.14.7.0.255", "1.0.1.7.0.255", "1.0.1.8.0.255"];
const REGISTERS: RegisterSpec[] = ["voltage", "current", "frequency", "active_power", "active_energy"].map(
  (key, i) => ({ key, obis: FIVE[i]!, classId: 3, attributeId: 2 }),
);

function cpuMicros(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return d.user + d.system;
}

/** A DlmsClient connected (and associated, no authentication) to the simulator at 127.0.0.1:port. */
export async function newClient(port: number, link: LinkSettings): Promise<DlmsClient> {
  const c = new DlmsClient({
    transport: new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 5000 }),
    link,
    auth: { mechanism: "none" },
    timeoutMs: 5000,
  });
  await c.connect();
  return c;
}

/** CPU µs per operation over `n` operations (after a warm-up of n/10). */
async function perOp(n: number, op: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.max(200, n / 10); i++) await op();
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await op();
  return cpuMicros(t0) / n;
}

// Echoes after busy-waiting argv[2] µs: a peer that takes as long as the simulator to answer (decode, build, encode).
const ECHO_SERVER = `const spin = BigInt(Number(process.argv[2]) * 1000);
require("node:net").createServer((c) => {
  c.setNoDelay(true);
  c.on("data", (d) => { const t = process.hrtime.bigint(); while (process.hrtime.bigint() - t < spin); c.write(d); });
}).listen(Number(process.argv[1]), "127.0.0.1")`;

/**
 * CPU µs per bare round trip of `bytes` bytes over a Node socket to an echo process that answers after
 * `peerWorkUs`: what no client can go below. On a VM the waiting side's CPU grows with the peer's answer time
 * (going idle and being woken is charged to it), so the floor is given for an instant peer and a working one.
 */
export async function socketFloorUs(n: number, peerWorkUs = 0, bytes = 27): Promise<number> {
  const port = await freePort();
  const echo = start("node", ["-e", ECHO_SERVER, String(port), String(peerWorkUs)]);
  await waitForPort(port);
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once("connect", resolve));
  let answered: () => void = () => {};
  socket.on("data", () => answered());
  const request = Buffer.alloc(bytes, 0x7e);
  const roundTrip = () =>
    new Promise<void>((resolve) => {
      answered = resolve;
      socket.write(request);
    });
  try {
    return await perOp(n, roundTrip);
  } finally {
    socket.destroy();
    await stop(echo);
  }
}

export interface GetCpuResult {
  transport: "hdlc" | "wrapper";
  getNormalUs: number;
  withList5Us: number;
  withList5PerAttributeUs: number;
  oldPatternPerReadingUs: number;
  oursPerReadingUs: number;
  oldRoundTripsPerReading: number;
  oursRoundTripsPerReading: number;
}

async function measure(transport: "hdlc" | "wrapper", port: number): Promise<GetCpuResult> {
  const link: LinkSettings =
    transport === "hdlc"
      ? { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } }
      : { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } };
  const c = await newClient(port, link);
  const voltage = attr(FIVE[0]!);
  const five = FIVE.map((o) => attr(o));
  const getNormalUs = await perOp(GETS, () => c.get(voltage));
  const withList5Us = await perOp(GETS / 2, () => c.getMany(five));
  // Ours: one poll = readRegisters with the association's scaler cache (after the first poll: 1 GET-with-list).
  const cache = new ScalerCache();
  const oursPerReadingUs = await perOp(GETS / 5, () => readRegisters(c, REGISTERS, cache));
  await c.release();

  // The old system: every reading reads each value and each scaler_unit with its own GET (10 round trips), and
  // re-associates (release + SNRM/AARQ) every 10 readings.
  let old = await newClient(port, link);
  let readings = 0;
  let associations = 0;
  const oldReading = async () => {
    if (readings > 0 && readings % 10 === 0) {
      await old.release();
      old = await newClient(port, link);
      associations++;
    }
    for (const o of FIVE) {
      await old.get(attr(o, 2));
      await old.get(attr(o, 3));
    }
    readings++;
  };
  const oldPatternPerReadingUs = await perOp(GETS / 20, oldReading);
  await old.release();
  // Round trips per reading: 10 GETs + (RLRQ, DISC, SNRM, AARQ for HDLC; RLRQ, AARQ for the wrapper) / 10.
  const reassociation = transport === "hdlc" ? 4 : 2;
  void associations;
  return {
    transport,
    getNormalUs: +getNormalUs.toFixed(2),
    withList5Us: +withList5Us.toFixed(2),
    withList5PerAttributeUs: +(withList5Us / 5).toFixed(2),
    oldPatternPerReadingUs: +oldPatternPerReadingUs.toFixed(1),
    oursPerReadingUs: +oursPerReadingUs.toFixed(1),
    oldRoundTripsPerReading: 10 + reassociation / 10,
    oursRoundTripsPerReading: 1,
  };
}

export async function runGetCpu(
  runs = RUNS,
): Promise<{
  hdlc: GetCpuResult;
  wrapper: GetCpuResult;
  socketFloorUs: number;
  socketFloorPeer20Us: number;
  runs: GetCpuResult[];
}> {
  const [hdlcPort, wrapperPort] = [await freePort(), await freePort()];
  const sim: ChildProcess = start("node", [
    CLI,
    "sim",
    "--port",
    String(hdlcPort),
    "--wrapper-port",
    String(wrapperPort),
    "--log-level",
    "warn",
  ]);
  await waitForPort(hdlcPort);
  await waitForPort(wrapperPort);
  const all: GetCpuResult[] = [];
  const floors: number[] = [];
  const floors20: number[] = [];
  try {
    for (let r = 0; r < runs; r++) {
      all.push(await measure("hdlc", hdlcPort));
      all.push(await measure("wrapper", wrapperPort));
      // Capped at 5,000 round trips so `make bench` stays under 5 minutes with the default GETS.
      floors.push(await socketFloorUs(Math.min(GETS, 5000)));
      floors20.push(await socketFloorUs(Math.min(GETS, 5000), 20));
    }
  } finally {
    await stop(sim);
  }
  const med = (t: "hdlc" | "wrapper"): GetCpuResult => {
    const rs = all.filter((r) => r.transport === t);
    const m = (k: keyof GetCpuResult) => +median(rs.map((r) => r[k] as number)).toFixed(2);
    return {
      transport: t,
      getNormalUs: m("getNormalUs"),
      withList5Us: m("withList5Us"),
      withList5PerAttributeUs: m("withList5PerAttributeUs"),
      oldPatternPerReadingUs: m("oldPatternPerReadingUs"),
      oursPerReadingUs: m("oursPerReadingUs"),
      oldRoundTripsPerReading: rs[0]!.oldRoundTripsPerReading,
      oursRoundTripsPerReading: 1,
    };
  };
  return { hdlc: med("hdlc"), wrapper: med("wrapper"), socketFloorUs: +median(floors).toFixed(2),
    socketFloorPeer20Us: +median(floors20).toFixed(2),
    runs: all,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runGetCpu();
  console.log(JSON.stringify({ gets: GETS, ...result, load: machineLoad() }, null, 2));
  process.exit(0);
}
