// Simulator options with their defaults, shared by startSimulator() and the `sim` CLI. Every problem is reported
// at once, naming the option, before anything listens.
import type { ClientAuth } from "../dlms/server/negotiation.js";

export interface FaultOptions {
  /** Wait this long before every answer (ms). */
  delayMs?: number;
  /** HDLC: hold back the last frame of a segmented reply this long (ms), as some meters do. */
  lastFrameDelayMs?: number;
  /** Never answer anything (the TCP connection stays open). */
  silence?: boolean;
  /** Answer only every Nth request of a meter (1 = all); the others get silence. */
  answerEvery?: number;
  /** After this many complete answers on a connection, send half of the next frame and drop the TCP connection. */
  dropMidFrameAfter?: number;
  /** Corrupt the FCS of every Nth frame a meter sends (wrapper: the version field, it has no checksum). */
  corruptFcsEvery?: number;
  /** Answer every AARQ with AARE rejected-permanent. */
  refuseAssociation?: boolean;
  /** Ignore RLRQ (no RLRE): the client must fall back to DISC, as with meters that lack release. */
  ignoreRelease?: boolean;
  /** Append two junk bytes after every GET response APDU, as some meters do. */
  trailingGarbage?: boolean;
}

export interface SimHlsOptions {
  authKey: Uint8Array;
  blockKey: Uint8Array;
  /** The meters' system title (8 bytes); default "SIM" + the serial number as 5 bytes, per meter. */
  systemTitle?: Uint8Array;
  /** Grant general-protection to HLS clients (they then send general-glo-ciphering). Default false. */
  generalProtection?: boolean;
  /** Fault: flip a bit of the tag of every ciphered reply after authentication. */
  badTag?: boolean;
  /** Fault: reuse the meter's invocation counter for every ciphered reply after authentication. */
  replayCounter?: boolean;
}

export interface SimulatorOptions extends FaultOptions {
  transport?: "hdlc" | "wrapper";
  host?: string;
  /** First port; meter i listens on port + i (0 = an ephemeral port for each). With sharedPort, the one port. */
  port?: number;
  count?: number;
  /**
   * Also serve the same meters over the wrapper (with transport hdlc): meter i on wrapperPort + i, or all on it
   * with sharedPort. A meter busy on one transport is busy on both.
   */
  wrapperPort?: number;
  /** All meters on one port, told apart by the HDLC physical address / the wrapper destination wPort. */
  sharedPort?: boolean;
  /**
   * "low" serves LLS on client SAPs 1 and 17 with `password`; "hls-gmac" serves HLS-GMAC with ciphered APDUs on
   * the management client SAP 1 with `hls` (the public SAP 16 stays open without auth).
   */
  auth?: "none" | "low" | "hls-gmac";
  /** Keys (SECRET, never logged) and options of auth "hls-gmac". */
  hls?: SimHlsOptions;
  /** SECRET: never logged. */
  password?: string;
  /** Explicit client SAP -> authentication table; overrides auth/password. */
  clients?: ReadonlyMap<number, ClientAuth>;
  /** Seconds without a frame before the meter drops the association and the connection. Default 120. */
  inactivityTimeoutSeconds?: number;
  /**
   * A client that closes TCP without DISC leaves the meter busy until the inactivity timeout or a DISC, like a
   * meter behind a TCP/serial converter. Default false: closing TCP frees the meter.
   */
  holdAfterClose?: boolean;
  /** GET-with-list for every client (true, default), none (false), or only authenticated (LLS) clients. */
  multipleReferences?: boolean | "authenticated-only";
  obisChannel?: 0 | 1;
  /** HDLC server (upper) address, also the wrapper wPort of a meter on its own port. Default 1. */
  serverLogical?: number;
  /** HDLC physical address of meter 0 (meter i has base + i). Default 16. */
  physicalBase?: number;
  /** Wrapper wPort of meter 0 on a shared port (meter i has base + i). Default 1. */
  wPortBase?: number;
  /**
   * HDLC max information field the meter accepts and sends (its maximum: the UA offers the smaller of this and the
   * client's proposal, 62056-46 §6.4.4.4.3.2). Default 128.
   */
  hdlcMaxInfo?: number;
  /** HDLC window size the meter supports in both directions (1..7); the UA offers min(this, client's). Default 7. */
  hdlcWindow?: number;
  /** Server max receive PDU size. Default 1024. */
  maxPduSize?: number;
  unknownObject?: "object-undefined" | "read-write-denied";
  /** A GET before the association: an ExceptionResponse (default) or silence, as some meters. */
  beforeAssociation?: "exception" | "silence";
  /** Seed of meter 0; meter i uses seed + i. Default 1. */
  seed?: number;
  /** Serial number of meter 0 (numeric); meter i has serial + i. Default 10000001. */
  serialBase?: number;
  voltageScaler?: -1 | -2;
  /** Load profile capacity (profile_entries). Default 96, or 100,000 with profileHistoryMs. */
  profileRows?: number;
  profilePeriodSeconds?: number;
  /** The profile starts this long before the simulator (it was installed then): rows exist from that instant on.
   * Default: the buffer is full from the start. */
  profileHistoryMs?: number;
  /** The meters' clocks run this far ahead of real time (negative: behind). Default 0. */
  clockOffsetMs?: number;
  /** Clock deviation in minutes (Blue Book sign, CET = -60). Default 0. */
  clockDeviationMinutes?: number;
  /** "eu": summer time from the last Sunday of March to the last Sunday of October (deviation -60 more, status 0x80). */
  dst?: "eu" | "none";
  /** Time source for the meters (ms since the epoch). Timers (delay, inactivity) still use real time. */
  now?: () => number;
}

/** Options left undefined when unset: the password (folded into clients) and the faults that are off by default. */
type Unset =
  | "password"
  | "clients"
  | "wrapperPort"
  | "dropMidFrameAfter"
  | "corruptFcsEvery"
  | "profileHistoryMs"
  | "hls";

export type ResolvedOptions = Required<Omit<SimulatorOptions, Unset>> & {
  clients: ReadonlyMap<number, ClientAuth>;
  wrapperPort: number | undefined;
  dropMidFrameAfter: number | undefined;
  corruptFcsEvery: number | undefined;
  profileHistoryMs: number | undefined;
  hls: (SimHlsOptions & { clients: ReadonlySet<number> }) | undefined;
};

export const PUBLIC_CLIENT_SAP = 16;
export const LLS_CLIENT_SAPS = [1, 17] as const;
export const HLS_CLIENT_SAPS = [1] as const;

export class SimulatorOptionsError extends Error {
  override name = "SimulatorOptionsError";
  constructor(readonly problems: string[]) {
    super(`invalid simulator options: ${problems.join("; ")}`);
  }
}

export function resolveOptions(o: SimulatorOptions): ResolvedOptions {
  const problems: string[] = [];
  const int = (name: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    const v = value ?? fallback;
    if (!Number.isInteger(v) || v < min || v > max)
      problems.push(`${name} must be an integer in ${min}..${max}, got ${value}`);
    return v;
  };
  const optionalInt = (name: string, value: number | undefined, min: number, max: number) =>
    value === undefined ? undefined : int(name, value, min, min, max);

  const transport = o.transport ?? "hdlc";
  if (transport !== "hdlc" && transport !== "wrapper")
    problems.push(`transport must be hdlc or wrapper, got ${transport}`);
  const count = int("count", o.count, 1, 1, 100_000);
  const port = int("port", o.port, transport === "wrapper" ? 4060 : 4059, 0, 65_535);
  if (!o.sharedPort && port !== 0 && port + count - 1 > 65_535) {
    problems.push(`port ${port} + count ${count} runs past 65535`);
  }
  const wrapperPort = o.wrapperPort === undefined ? undefined : int("wrapperPort", o.wrapperPort, 0, 0, 65_535);
  if (wrapperPort !== undefined && transport !== "hdlc")
    problems.push("wrapperPort adds the wrapper to an hdlc simulator");
  if (wrapperPort && !o.sharedPort && wrapperPort + count - 1 > 65_535) {
    problems.push(`wrapperPort ${wrapperPort} + count ${count} runs past 65535`);
  }
  const multipleReferences = o.multipleReferences ?? true;
  if (![true, false, "authenticated-only"].includes(multipleReferences)) {
    problems.push(`multipleReferences must be true, false or "authenticated-only", got ${multipleReferences}`);
  }
  const obisChannel = o.obisChannel ?? 0;
  if (obisChannel !== 0 && obisChannel !== 1) problems.push(`obisChannel must be 0 or 1, got ${obisChannel}`);
  const physicalBase = int("physicalBase", o.physicalBase, 16, 0, 0x3fff);
  if (transport === "hdlc" && physicalBase + count - 1 > 0x3fff) {
    problems.push(`physical addresses ${physicalBase}..${physicalBase + count - 1} exceed 16383 (4-byte HDLC address)`);
  }
  const wPortBase = int("wPortBase", o.wPortBase, 1, 1, 0xffff);
  if (transport === "wrapper" && o.sharedPort && wPortBase + count - 1 > 0xffff)
    problems.push("wPortBase + count exceeds 65535");

  const auth = o.auth ?? "none";
  let clients = o.clients;
  if (!clients) {
    if (auth === "low" && !o.password) problems.push("auth low needs a password");
    if (auth !== "none" && auth !== "low" && auth !== "hls-gmac") {
      problems.push(`auth must be none, low or hls-gmac, got ${auth}`);
    }
    const table = new Map<number, ClientAuth>([[PUBLIC_CLIENT_SAP, { mechanism: "none" }]]);
    // HLS-GMAC clients reach the plain association only once the secure layer has authenticated them.
    if (auth === "hls-gmac") for (const sap of HLS_CLIENT_SAPS) table.set(sap, { mechanism: "none" });
    if (auth === "low" && o.password) {
      const password = new TextEncoder().encode(o.password);
      for (const sap of LLS_CLIENT_SAPS) table.set(sap, { mechanism: "low", password });
    }
    clients = table;
  }

  let hls: ResolvedOptions["hls"];
  if (auth === "hls-gmac") {
    const h = o.hls;
    if (!h) problems.push("auth hls-gmac needs an authentication key and a block key");
    else {
      if (h.authKey.length !== 16) problems.push("the HLS authentication key must be 16 bytes (32 hex digits)");
      if (h.blockKey.length !== 16) problems.push("the HLS block key must be 16 bytes (32 hex digits)");
      if (h.systemTitle && h.systemTitle.length !== 8) problems.push("the system title must be 8 bytes");
      hls = { ...h, clients: new Set(HLS_CLIENT_SAPS) };
    }
  }

  const resolved: ResolvedOptions = {
    transport,
    host: o.host ?? "127.0.0.1",
    port,
    count,
    wrapperPort,
    sharedPort: o.sharedPort ?? false,
    auth,
    clients,
    hls,
    inactivityTimeoutSeconds: int("inactivityTimeoutSeconds", o.inactivityTimeoutSeconds, 120, 1, 86_400),
    holdAfterClose: o.holdAfterClose ?? false,
    multipleReferences,
    obisChannel,
    serverLogical: int("serverLogical", o.serverLogical, 1, 0, 0x3fff),
    physicalBase,
    wPortBase,
    hdlcMaxInfo: int("hdlcMaxInfo", o.hdlcMaxInfo, 128, 32, 2030),
    hdlcWindow: int("hdlcWindow", o.hdlcWindow, 7, 1, 7),
    maxPduSize: int("maxPduSize", o.maxPduSize, 1024, 64, 0xffff),
    unknownObject: o.unknownObject ?? "object-undefined",
    beforeAssociation: o.beforeAssociation ?? "exception",
    seed: int("seed", o.seed, 1, 0, 0x7fff_ffff),
    serialBase: int("serialBase", o.serialBase, 10_000_001, 0, 9_999_999_999),
    voltageScaler: o.voltageScaler ?? -1,
    profileRows: int("profileRows", o.profileRows, o.profileHistoryMs === undefined ? 96 : 100_000, 1, 10_000_000),
    profilePeriodSeconds: int("profilePeriodSeconds", o.profilePeriodSeconds, 900, 1, 86_400),
    profileHistoryMs: optionalInt("profileHistoryMs", o.profileHistoryMs, 0, 20 * 365 * 86_400_000),
    clockOffsetMs: int("clockOffsetMs", o.clockOffsetMs, 0, -365 * 86_400_000, 365 * 86_400_000),
    clockDeviationMinutes: int("clockDeviationMinutes", o.clockDeviationMinutes, 0, -720, 720),
    dst: o.dst ?? "none",
    now: o.now ?? Date.now,
    delayMs: int("delayMs", o.delayMs, 0, 0, 600_000),
    lastFrameDelayMs: int("lastFrameDelayMs", o.lastFrameDelayMs, 0, 0, 600_000),
    silence: o.silence ?? false,
    answerEvery: int("answerEvery", o.answerEvery, 1, 1, 1_000_000),
    dropMidFrameAfter: optionalInt("dropMidFrameAfter", o.dropMidFrameAfter, 0, 1_000_000),
    corruptFcsEvery: optionalInt("corruptFcsEvery", o.corruptFcsEvery, 1, 1_000_000),
    refuseAssociation: o.refuseAssociation ?? false,
    trailingGarbage: o.trailingGarbage ?? false,
    ignoreRelease: o.ignoreRelease ?? false,
  };
  if (resolved.dst !== "eu" && resolved.dst !== "none") problems.push(`dst must be eu or none, got ${resolved.dst}`);
  if (resolved.voltageScaler !== -1 && resolved.voltageScaler !== -2) problems.push("voltageScaler must be -1 or -2");
  if (problems.length > 0) throw new SimulatorOptionsError(problems);
  return resolved;
}
