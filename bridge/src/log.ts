// JSON-lines logger (pino). Secrets are redacted by key wherever they appear in a logged object, so a whole
// config or options object can be logged without leaking a meter password, the MQTT password or a token.
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from "pino";

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

const SECRET_KEYS = ["password", "passwd", "secret", "token", "accessToken", "access_token", "authorization"];

/** pino redact paths: the secret keys at the top level and up to three levels deep. */
export const REDACT_PATHS: string[] = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

export function createLogger(level: LevelWithSilent | string = "info", name?: string, destination?: DestinationStream) {
  if (!LOG_LEVELS.includes(level as LevelWithSilent)) {
    throw new Error(`log level '${level}' is not one of ${LOG_LEVELS.join(", ")}`);
  }
  const options = {
    level,
    ...(name ? { name } : {}),
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
