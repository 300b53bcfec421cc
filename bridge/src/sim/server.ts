// The meter simulator's network side: TCP listeners (one port per meter, or all meters on one port told apart by
// HDLC physical address / wrapper wPort) in front of simulated meters. Used by the `sim` CLI, tests and benches.
import { createServer, type Server } from "node:net";
import { conformanceMask } from "../dlms/apdu/conformance.js";
import { createLogger, type Logger } from "../log.js";
import { type ConnectionContext, MeterConnection } from "./connection.js";
import { MeterFaults } from "./faults.js";
import type { FirstFrameTarget } from "./first-frame.js";
import { SimulatedMeter } from "./meter-model.js";
import { emptyStats, type MeterSlot } from "./meter-slot.js";
import { type ResolvedOptions, resolveOptions, type SimulatorOptions } from "./options.js";

export type { MeterSlot, MeterStats } from "./meter-slot.js";
export type { SimulatorOptions } from "./options.js";

export interface RunningSimulator {
  /** Listening ports: one per meter, or a single one with sharedPort. */
  ports: number[];
  /** With wrapperPort: the wrapper listeners serving the same meters (else empty). */
  wrapperPorts: number[];
  meters: readonly MeterSlot[];
  /** Stops listening and drops every connection. */
  close(): Promise<void>;
}

/** What the simulated meters support; the negotiated conformance is the client's proposal AND this. */
export function serverConformance(multipleReferences: boolean): number {
  return conformanceMask([
    "block-transfer-with-get-or-read",
    ...(multipleReferences ? ["multiple-references"] : []),
    "get",
    "selective-access",
  ]);
}

/** The meters' conformance for a client SAP: multiple references for all, none, or authenticated clients only. */
function conformanceBySap(o: ResolvedOptions): (clientSap: number) => number {
  const base = plainConformanceBySap(o);
  const hls = o.hls;
  if (!hls?.generalProtection) return base;
  // A meter granting general-protection to its HLS clients: they may send general-glo-ciphering.
  const generalProtection = conformanceMask(["general-protection"]);
  return (sap) => base(sap) | (hls.clients.has(sap) ? generalProtection : 0);
}

function plainConformanceBySap(o: ResolvedOptions): (clientSap: number) => number {
  const full = serverConformance(true);
  const reduced = serverConformance(false);
  if (o.multipleReferences !== "authenticated-only") return () => (o.multipleReferences ? full : reduced);
  return (sap) => (o.clients.get(sap)?.mechanism === "low" ? full : reduced);
}

export async function startSimulator(options: SimulatorOptions = {}, logger?: Logger): Promise<RunningSimulator> {
  const o = resolveOptions(options);
  const log = logger ?? createLogger("silent");
  const meters = createMeters(o);
  const connections = new Set<MeterConnection>();
  const servers: Server[] = [];
  const conformance = conformanceBySap(o);

  const listen = async (
    transport: "hdlc" | "wrapper",
    port: number,
    resolve: ConnectionContext["resolve"],
  ): Promise<number> => {
    const ctx: ConnectionContext = { transport, options: o, logger: log, conformance, resolve };
    const server = createServer((socket) => {
      connections.add(new MeterConnection(socket, ctx, (c) => connections.delete(c)));
    });
    servers.push(server);
    await new Promise<void>((done, fail) => {
      server.once("error", fail);
      server.listen(port, o.host, () => {
        server.off("error", fail);
        done();
      });
    });
    const address = server.address();
    return typeof address === "object" && address ? address.port : port;
  };

  /** One listener for all meters (sharedPort) or one per meter from firstPort on; returns the ports. */
  const listenAll = async (transport: "hdlc" | "wrapper", firstPort: number): Promise<number[]> => {
    if (o.sharedPort) return [await listen(transport, firstPort, (target) => sharedTarget(o, meters, target))];
    const ports: number[] = [];
    for (const meter of meters) {
      const port = firstPort === 0 ? 0 : firstPort + meter.index;
      ports.push(await listen(transport, port, (target) => ownTarget(o, meter, target)));
    }
    return ports;
  };

  let ports: number[];
  let wrapperPorts: number[] = [];
  try {
    ports = await listenAll(o.transport, o.port);
    if (o.wrapperPort !== undefined) wrapperPorts = await listenAll("wrapper", o.wrapperPort);
  } catch (error) {
    await closeAll(servers, connections);
    throw error;
  }
  for (const meter of meters) {
    meter.port = ports[o.sharedPort ? 0 : meter.index]!;
    if (o.wrapperPort !== undefined) meter.wrapperPort = wrapperPorts[o.sharedPort ? 0 : meter.index]!;
  }
  log.info(
    {
      event: "listening",
      transport: o.transport,
      host: o.host,
      ...summarisePorts(ports),
      ...(o.wrapperPort === undefined ? {} : { wrapper: summarisePorts(wrapperPorts) }),
      meters: meters.length,
      auth: o.auth,
    },
    "simulator listening",
  );
  return { ports, wrapperPorts, meters, close: () => closeAll(servers, connections) };
}

function createMeters(o: ResolvedOptions): MeterSlot[] {
  // "Installed" history ago on the meter's own clock: every meter of this simulator starts its profile then.
  const profileStartMs = o.profileHistoryMs === undefined ? undefined : o.now() + o.clockOffsetMs - o.profileHistoryMs;
  return Array.from({ length: o.count }, (_, index) => {
    const serialNumber = String(o.serialBase + index);
    return {
      index,
      serialNumber,
      port: 0,
      physicalAddress: o.physicalBase + index,
      wPort: o.sharedPort ? o.wPortBase + index : o.serverLogical,
      model: new SimulatedMeter({
        seed: o.seed + index,
        serialNumber,
        now: o.now,
        obisChannel: o.obisChannel,
        voltageScaler: o.voltageScaler,
        profileRows: o.profileRows,
        profilePeriodSeconds: o.profilePeriodSeconds,
        clockOffsetMs: o.clockOffsetMs,
        clockDeviationMinutes: o.clockDeviationMinutes,
        dst: o.dst,
        ...(profileStartMs === undefined ? {} : { profileStartMs }),
      }),
      faults: new MeterFaults(o),
      stats: emptyStats(),
      security: {
        systemTitle: o.hls?.systemTitle ?? defaultSystemTitle(o.serialBase + index),
        nextServerCounter: restartSafeCounterStart(),
        clientCounters: new Map(),
      },
      busyWith: undefined,
    };
  });
}

/**
 * A real meter persists its invocation counter; the simulator does not, so it starts from the clock (16 per second
 * since 2025): a restarted simulator stays above what clients accepted before, unless it sent more than 16 ciphered
 * replies per second of its previous run.
 */
function restartSafeCounterStart(): number {
  return Math.max(1, Math.floor((Date.now() - Date.UTC(2025, 0, 1)) / 62.5));
}

/** "SIM" and the serial number as 5 big-endian bytes: unique per simulated meter. */
function defaultSystemTitle(serial: number): Uint8Array {
  const title = new Uint8Array(8);
  title.set(new TextEncoder().encode("SIM"), 0);
  let n = serial;
  for (let i = 7; i >= 3; i--) {
    title[i] = n % 256;
    n = Math.floor(n / 256);
  }
  return title;
}

/** A meter on its own port answers its logical address, with or without its physical address. */
function ownTarget(o: ResolvedOptions, meter: MeterSlot, target: FirstFrameTarget): MeterSlot | undefined {
  if (target.transport === "wrapper") return target.wPort === meter.wPort ? meter : undefined;
  if (target.logical !== o.serverLogical) return undefined;
  return target.physical === undefined || target.physical === meter.physicalAddress ? meter : undefined;
}

/** On a shared port the physical address (HDLC) or destination wPort (wrapper) picks the meter. */
function sharedTarget(o: ResolvedOptions, meters: MeterSlot[], target: FirstFrameTarget): MeterSlot | undefined {
  if (target.transport === "wrapper") return meters[target.wPort - o.wPortBase];
  if (target.logical !== o.serverLogical || target.physical === undefined) return undefined;
  return meters[target.physical - o.physicalBase];
}

async function closeAll(servers: Server[], connections: Set<MeterConnection>): Promise<void> {
  await Promise.all([...connections].map((c) => c.destroy()));
  await Promise.all(servers.map((s) => new Promise<void>((done) => (s.listening ? s.close(() => done()) : done()))));
}

/** A few ports are listed; for many (1000 meters) the range is enough. */
function summarisePorts(ports: number[]): { ports: number[] } | { portRange: string } {
  return ports.length <= 10 ? { ports } : { portRange: `${ports[0]}..${ports.at(-1)}` };
}
