// `dlms-bridge run`: the bridge service. Config from the environment (and .env via dotenv), every config error at
// once with exit status 2; SIGTERM/SIGINT stop it cleanly with exit 0, or 3 when readings had to be dropped
// (the disk refused them and the broker could not take them either): the log line says how many.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import dotenv from "dotenv";
import { startBridge } from "../app.js";
import { loadConfig } from "../config/load.js";
import { createLogger } from "../log.js";

/** Exit status of a stop that lost readings (0 = clean, 1 = failure, 2 = configuration). */
export const EXIT_READINGS_LOST = 3;

const USAGE = `usage: dlms-bridge run [--env FILE]
Polls every METER_<ID> of the environment (and of FILE, default ./.env when present) and publishes readings to
MQTT_URL. Metrics and status on HTTP_PORT (/metrics, /healthz, /readyz, /api/meters).`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { env: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  // Variables already in the environment win over the file (compose passes them directly). The default ./.env may
  // be absent; a file named on the command line must exist.
  if (values.env !== undefined) {
    try {
      readFileSync(values.env);
    } catch (error) {
      const code = (error as { code?: string }).code;
      console.error(`dlms-bridge run: cannot read env file '${values.env}'${code ? ` (${code})` : ""}`);
      return 2;
    }
  }
  dotenv.config({ path: values.env ?? ".env", quiet: true });
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    console.error(`dlms-bridge: invalid configuration (${loaded.errors.length} error(s)):`);
    for (const e of loaded.errors) console.error(`  - ${e}`);
    return 2;
  }
  const config = loaded.config;
  const log = createLogger(config.logLevel, "dlms-bridge");
  if (config.meters.length === 0) log.warn("no meter configured: add a METER_<ID>=hdlc://host:port line to .env");
  const app = await startBridge(config, log);

  return new Promise<number>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info({ signal }, "signal received");
      const force = setTimeout(() => {
        log.error("clean stop took too long; exiting");
        resolve(1);
      }, 20_000);
      force.unref();
      app.stop().then(
        (report) => {
          clearTimeout(force);
          if (report.ackedUndeleted > 0) {
            log.warn(
              { ackedUndeleted: report.ackedUndeleted, cause: report.problem },
              `${report.ackedUndeleted} acknowledged readings could not be deleted from the outbox: they are sent ` +
                "again after the next start, unchanged (same meter and ts, so a consumer keyed on them drops them)",
            );
          }
          if (report.lost > 0) {
            log.error(
              { lost: report.lost, cause: report.problem, exitCode: EXIT_READINGS_LOST },
              `stopped with ${report.lost} readings lost: never stored (${report.problem ?? "outbox not writable"}) ` +
                "and not acknowledged by the broker",
            );
            resolve(EXIT_READINGS_LOST);
          } else resolve(0);
        },
        (error: unknown) => {
          log.error({ err: { message: (error as Error).message } }, "error while stopping");
          resolve(1);
        },
      );
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  });
}
