// `dlms-bridge sim`: the meter simulator as a process. Listens until SIGINT/SIGTERM, logs one JSON line per
// connection and association event (never the password), then closes every socket and exits 0.
import { parseArgs } from "node:util";
import { parseDuration } from "../config/duration.js";
import { parseKey, parseSystemTitle } from "../config/hls.js";
import { createLogger, type Logger } from "../log.js";
import { type SimHlsOptions, SimulatorOptionsError } from "../sim/options.js";
import { type SimulatorOptions, startSimulator } from "../sim/server.js";
import { type CliIo, choiceOption, EXIT_OK, EXIT_USAGE, intOption, processIo, UsageError } from "./args.js";

export const SIM_USAGE = `usage: dlms-bridge sim [options]
Simulates 3-phase electricity meters speaking DLMS/COSEM over TCP (HDLC or the IEC 62056-47 wrapper).

  --transport hdlc|wrapper   data link (default hdlc)
  --host H                   address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --port P                   first port (default 4059 hdlc, 4060 wrapper); meter i listens on P+i; 0 = ephemeral
  --count N                  number of meters (default 1)
  --wrapper-port P           with hdlc: also serve the same meters over the wrapper from port P (P+i per meter)
  --shared-port              all meters on one port, chosen by HDLC physical address (16, 17, ...) or by the
                             wrapper destination wPort (1, 2, ...)
  --auth none|low|hls-gmac   none: public client SAP 16 only; low: also LLS on client SAPs 1 and 17;
                             hls-gmac: HLS-GMAC with ciphered APDUs (security suite 0) on client SAP 1
  --password X               LLS password (or env SIM_PASSWORD, which keeps it out of the process list)
  --auth-key HEX             hls-gmac authentication key, 32 hex digits (or env SIM_AUTH_KEY: keeps it out of
                             the process list)
  --block-key HEX            hls-gmac block (encryption) key, 32 hex digits (or env SIM_BLOCK_KEY)
  --system-title X           the meters' system title: 16 hex digits or 8 ASCII characters (default "SIM" +
                             the serial number); the invocation counter object is 0.0.43.1.0.255
  --inactivity-timeout S     seconds without a frame before a meter drops the connection (default 120)
  --hold-after-close         a client that drops TCP without DISC leaves the meter busy until the inactivity
                             timeout or a DISC (as behind a TCP/serial converter)
  --no-multiple-references   refuse GET-with-list (negotiated conformance without multiple-references)
  --multiple-references-lls-only  grant GET-with-list to LLS clients only, not to the public client
  --obis-channel 0|1         B group of the electricity objects: 0 = 1-0:32.7.0, 1 = Microstar-style 1-1:32.7.0
  --unknown-object-denied    answer missing objects read-write-denied (3) instead of object-undefined (4)
  --silent-before-association  ignore a GET sent before the AARQ (default: an ExceptionResponse)
  --hdlc-max-info N          HDLC: largest information field the meter supports, 32..2030 (default 128); the UA
                             offers the smaller of this and the client's proposal
  --hdlc-window N            HDLC: largest window the meter supports, 1..7 (default 7); the UA offers min(N, client's)
  --max-pdu N                largest APDU the meter receives, announced in the AARE (default 1024)
  --seed N                   seed of meter 0 (meter i uses N+i): same seed, same readings (default 1)
  --profile-period D         load profile (1-0:99.1.0) capture period, e.g. 15m (default), 1m, 10s
  --history D                the profile started D ago (e.g. 1h, 7d): rows exist from then on, so a bridge has
                             something to backfill; it keeps recording while no client is connected
  --profile-rows N           profile capacity (profile_entries; default 96, or 100000 with --history)
  --clock-offset D           the meters' clocks run D ahead of real time (e.g. 5m; -5m: behind)
  --deviation M              clock deviation in minutes, Blue Book sign (CET: -60; default 0 = UTC)
  --dst eu|none              EU summer time (deviation one hour less, clock status bit 0x80; default none)
  --log-level L              info (default), debug, warn, error, silent

Faults (each meter, observable by the client):
  --delay-ms N               wait N ms before every answer
  --last-frame-delay-ms N    HDLC: hold back the last frame of a segmented reply N ms
  --silence                  never answer
  --answer-every N           answer only every Nth request
  --drop-mid-frame           send half a frame, then drop the TCP connection (see --drop-after)
  --drop-after N             with --drop-mid-frame: answer N times normally first (default 0)
  --corrupt-fcs-every N      corrupt the FCS of every Nth frame (wrapper: the header version)
  --refuse-association       answer every AARQ with AARE rejected-permanent
  --trailing-garbage         append two junk bytes after every GET response
  --ignore-release           never answer RLRQ (clients must fall back to DISC)
  --fault-bad-tag            hls-gmac: flip a bit of the GCM tag of every ciphered reply after authentication
  --fault-replay-counter     hls-gmac: reuse the meter's invocation counter for every reply after authentication

One association at a time per meter: a second connection to a busy meter gets DM (HDLC) or is closed (wrapper).`;

const OPTIONS = {
  transport: { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  count: { type: "string" },
  "wrapper-port": { type: "string" },
  "shared-port": { type: "boolean" },
  auth: { type: "string" },
  password: { type: "string" },
  "auth-key": { type: "string" },
  "block-key": { type: "string" },
  "system-title": { type: "string" },
  "fault-bad-tag": { type: "boolean" },
  "fault-replay-counter": { type: "boolean" },
  "inactivity-timeout": { type: "string" },
  "no-multiple-references": { type: "boolean" },
  "multiple-references-lls-only": { type: "boolean" },
  "hold-after-close": { type: "boolean" },
  "obis-channel": { type: "string" },
  "unknown-object-denied": { type: "boolean" },
  "silent-before-association": { type: "boolean" },
  "hdlc-max-info": { type: "string" },
  "hdlc-window": { type: "string" },
  "max-pdu": { type: "string" },
  seed: { type: "string" },
  "profile-period": { type: "string" },
  history: { type: "string" },
  "profile-rows": { type: "string" },
  "clock-offset": { type: "string" },
  deviation: { type: "string" },
  dst: { type: "string" },
  "log-level": { type: "string" },
  "delay-ms": { type: "string" },
  "last-frame-delay-ms": { type: "string" },
  silence: { type: "boolean" },
  "answer-every": { type: "string" },
  "drop-mid-frame": { type: "boolean" },
  "drop-after": { type: "string" },
  "corrupt-fcs-every": { type: "string" },
  "refuse-association": { type: "boolean" },
  "trailing-garbage": { type: "boolean" },
  "ignore-release": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type SimValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: false }>>["values"];

export async function main(argv: string[]): Promise<number> {
  return runSim(argv, processIo);
}

export interface RunSimHooks {
  /** Stops the simulator when aborted (tests); otherwise SIGINT/SIGTERM do. */
  stop?: AbortSignal;
  logger?: Logger;
  /** Called once listening, with the ports (tests). */
  onListening?: (ports: number[]) => void;
  env?: NodeJS.ProcessEnv;
}

export async function runSim(argv: string[], io: CliIo, hooks: RunSimHooks = {}): Promise<number> {
  let options: SimulatorOptions;
  let logLevel: string;
  try {
    const { values } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false });
    if (values.help) {
      io.out(SIM_USAGE);
      return EXIT_OK;
    }
    options = buildSimOptions(values, hooks.env ?? process.env);
    logLevel =
      choiceOption("log-level", values["log-level"], ["info", "debug", "warn", "error", "silent"] as const) ?? "info";
  } catch (error) {
    io.err(`dlms-bridge sim: ${error instanceof Error ? error.message : String(error)}`);
    io.err("run 'dlms-bridge sim --help' for usage");
    return EXIT_USAGE;
  }
  const logger = hooks.logger ?? createLogger(logLevel, "sim");
  // Signal handlers first: a SIGTERM right after the "listening" line must still close cleanly.
  const stopped = waitForStop(hooks.stop);
  let sim: Awaited<ReturnType<typeof startSimulator>>;
  try {
    sim = await startSimulator(options, logger);
  } catch (error) {
    stopped.cancel();
    if (error instanceof SimulatorOptionsError) {
      io.err(`dlms-bridge sim: ${error.problems.join("; ")}`);
      return EXIT_USAGE;
    }
    throw error; // e.g. EADDRINUSE: the CLI entry prints it and exits 1
  }
  hooks.onListening?.(sim.ports);
  const signal = await stopped.reason;
  logger.info({ event: "stopping", signal }, "simulator stopping");
  await sim.close();
  logger.info({ event: "stopped" }, "simulator stopped");
  return EXIT_OK;
}

/** Command-line values to simulator options; a bad value is a UsageError naming the option. */
export function buildSimOptions(values: SimValues, env: NodeJS.ProcessEnv = {}): SimulatorOptions {
  const auth = choiceOption("auth", values.auth, ["none", "low", "hls-gmac"] as const) ?? "none";
  const password = values.password ?? env.SIM_PASSWORD;
  if (auth === "low" && !password) throw new UsageError("--auth low needs --password (or env SIM_PASSWORD)");
  if (values["drop-after"] !== undefined && !values["drop-mid-frame"]) {
    throw new UsageError("--drop-after goes with --drop-mid-frame");
  }
  const channel = intOption("obis-channel", values["obis-channel"], 0, 1) as 0 | 1 | undefined;
  const options: SimulatorOptions = {
    transport: choiceOption("transport", values.transport, ["hdlc", "wrapper"] as const),
    host: values.host,
    port: intOption("port", values.port, 0, 65_535),
    count: intOption("count", values.count, 1, 100_000),
    wrapperPort: intOption("wrapper-port", values["wrapper-port"], 0, 65_535),
    sharedPort: values["shared-port"] === true,
    auth,
    password: auth === "low" ? password : undefined,
    inactivityTimeoutSeconds: intOption("inactivity-timeout", values["inactivity-timeout"], 1, 86_400),
    multipleReferences: multipleReferences(values),
    holdAfterClose: values["hold-after-close"] === true,
    obisChannel: channel,
    unknownObject: values["unknown-object-denied"] ? "read-write-denied" : "object-undefined",
    beforeAssociation: values["silent-before-association"] ? "silence" : "exception",
    hdlcMaxInfo: intOption("hdlc-max-info", values["hdlc-max-info"], 32, 2030),
    hdlcWindow: intOption("hdlc-window", values["hdlc-window"], 1, 7),
    maxPduSize: intOption("max-pdu", values["max-pdu"], 64, 0xffff),
    seed: intOption("seed", values.seed, 0, 0x7fff_ffff),
    ...profileOptions(values),
    delayMs: intOption("delay-ms", values["delay-ms"], 0, 600_000),
    lastFrameDelayMs: intOption("last-frame-delay-ms", values["last-frame-delay-ms"], 0, 600_000),
    silence: values.silence === true,
    answerEvery: intOption("answer-every", values["answer-every"], 1, 1_000_000),
    dropMidFrameAfter: values["drop-mid-frame"]
      ? (intOption("drop-after", values["drop-after"], 0, 1_000_000) ?? 0)
      : undefined,
    corruptFcsEvery: intOption("corrupt-fcs-every", values["corrupt-fcs-every"], 1, 1_000_000),
    refuseAssociation: values["refuse-association"] === true,
    trailingGarbage: values["trailing-garbage"] === true,
    ignoreRelease: values["ignore-release"] === true,
    hls: auth === "hls-gmac" ? hlsOptions(values, env) : undefined,
  };
  // Leave unset options out so the simulator's defaults (e.g. the port per transport) apply.
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SimulatorOptions;
}

function durationOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const negative = text.startsWith("-");
  try {
    const ms = parseDuration(negative ? text.slice(1) : text);
    return negative ? -ms : ms;
  } catch (error) {
    throw new UsageError(`--${name} ${(error as Error).message}`);
  }
}

function profileOptions(values: SimValues): SimulatorOptions {
  const period = durationOption("profile-period", values["profile-period"]);
  if (period !== undefined && (period < 1000 || period % 1000 !== 0 || period < 0)) {
    throw new UsageError(`--profile-period must be whole seconds, at least 1s, got ${values["profile-period"]}`);
  }
  const history = durationOption("history", values.history);
  if (history !== undefined && history < 0) throw new UsageError("--history must not be negative");
  const options: SimulatorOptions = {
    profilePeriodSeconds: period === undefined ? undefined : period / 1000,
    profileHistoryMs: history,
    profileRows: intOption("profile-rows", values["profile-rows"], 1, 10_000_000),
    clockOffsetMs: durationOption("clock-offset", values["clock-offset"]),
    clockDeviationMinutes: intOption("deviation", values.deviation, -720, 720),
    dst: choiceOption("dst", values.dst, ["eu", "none"] as const),
  };
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as SimulatorOptions;
}

/** Resolves with what stopped us: SIGINT, SIGTERM or the hook's abort. cancel() removes the handlers. */
function hlsOptions(values: SimValues, env: NodeJS.ProcessEnv): SimHlsOptions {
  const authKey = values["auth-key"] ?? env.SIM_AUTH_KEY;
  const blockKey = values["block-key"] ?? env.SIM_BLOCK_KEY;
  if (!authKey || !blockKey) {
    throw new UsageError("--auth hls-gmac needs --auth-key and --block-key (or env SIM_AUTH_KEY, SIM_BLOCK_KEY)");
  }
  const key = (v: string, name: string) => {
    try {
      return parseKey(v, name);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  };
  const hls: SimHlsOptions = {
    authKey: key(authKey, "--auth-key"),
    blockKey: key(blockKey, "--block-key"),
    badTag: values["fault-bad-tag"] === true,
    replayCounter: values["fault-replay-counter"] === true,
  };
  if (values["system-title"] !== undefined) {
    try {
      hls.systemTitle = parseSystemTitle(values["system-title"], "--system-title");
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return hls;
}

function multipleReferences(values: SimValues): boolean | "authenticated-only" {
  if (values["no-multiple-references"] && values["multiple-references-lls-only"]) {
    throw new UsageError("--no-multiple-references and --multiple-references-lls-only exclude each other");
  }
  if (values["multiple-references-lls-only"]) return "authenticated-only";
  return values["no-multiple-references"] !== true;
}

function waitForStop(stop?: AbortSignal): { reason: Promise<string>; cancel(): void } {
  let finish: (reason: string) => void = () => {};
  const reason = new Promise<string>((resolve) => {
    finish = resolve;
  });
  const onInt = () => done("SIGINT");
  const onTerm = () => done("SIGTERM");
  const onAbort = () => done("abort");
  const cancel = () => {
    process.off("SIGINT", onInt);
    process.off("SIGTERM", onTerm);
    stop?.removeEventListener("abort", onAbort);
  };
  const done = (why: string) => {
    cancel();
    finish(why);
  };
  process.once("SIGINT", onInt);
  process.once("SIGTERM", onTerm);
  if (stop?.aborted) done("abort");
  else stop?.addEventListener("abort", onAbort, { once: true });
  return { reason, cancel };
}
