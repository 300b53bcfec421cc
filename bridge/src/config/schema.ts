// The bridge's global environment variables: one table gives name, default and meaning (docs/contracts.md lists
// the same). Each parser returns the value or throws an Error whose message explains the expected form.
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { LOG_LEVELS } from "../log.js";
import { parseDuration } from "./duration.js";

export interface EnvVariable<T> {
  name: string;
  description: string;
  /** Shown in .env.example; undefined = optional without default. */
  example?: string;
  secret?: boolean;
  parse(text: string | undefined): T;
}

function integerIn(min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text.trim()) || value < min || value > max) {
      throw new Error(`'${text}' is not an integer in ${min}..${max}`);
    }
    return value;
  };
}

function durationIn(minMs: number, maxMs: number) {
  return (text: string): number => {
    const ms = parseDuration(text);
    if (ms < minMs || ms > maxMs) throw new Error(`'${text}' is not between ${minMs / 1000}s and ${maxMs / 1000}s`);
    return ms;
  };
}

function withDefault<T>(fallback: string, parse: (text: string) => T) {
  return (text: string | undefined): T => parse(text === undefined || text.trim() === "" ? fallback : text.trim());
}

function optionalText(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? undefined : text;
}

/**
 * The HTTP endpoints have no authentication: outside a container they listen on loopback only. Inside one,
 * loopback would hide /metrics from Prometheus, so 0.0.0.0 (compose also sets it; the port is published on
 * 127.0.0.1). Docker creates /.dockerenv, Podman /run/.containerenv.
 */
export function defaultHttpHost(exists: (path: string) => boolean = existsSync): string {
  return exists("/.dockerenv") || exists("/run/.containerenv") ? "0.0.0.0" : "127.0.0.1";
}

const MQTT_SCHEMES = ["mqtt:", "mqtts:", "tcp:", "ssl:", "ws:", "wss:"];

/** The MQTT URL, checked; credentials in it are refused (the URL is logged, MQTT_PASSWORD is not). */
function parseMqttUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error("is not a URL (e.g. mqtt://mosquitto:1884)");
  }
  if (url.username || url.password) throw new Error("must not hold credentials: use MQTT_USERNAME and MQTT_PASSWORD");
  if (!MQTT_SCHEMES.includes(url.protocol)) {
    throw new Error(`scheme '${url.protocol}' is not one of ${MQTT_SCHEMES.map((s) => s.slice(0, -1)).join(", ")}`);
  }
  return text;
}

function parseLogLevel(text: string): string {
  if (!LOG_LEVELS.includes(text as (typeof LOG_LEVELS)[number])) {
    throw new Error(`'${text}' is not one of ${LOG_LEVELS.join(", ")}`);
  }
  return text;
}

export const ENV = {
  mqttUrl: {
    name: "MQTT_URL",
    description: "Broker the bridge publishes to",
    example: "mqtt://localhost:1884",
    parse: withDefault("mqtt://localhost:1884", parseMqttUrl),
  },
  mqttUsername: { name: "MQTT_USERNAME", description: "Broker user name", parse: optionalText },
  mqttPassword: { name: "MQTT_PASSWORD", description: "Broker password", secret: true, parse: optionalText },
  mqttClientId: {
    name: "MQTT_CLIENT_ID",
    description: "MQTT client id (unique per bridge: two clients with one id kick each other off)",
    parse: withDefault(`dlms-bridge-${hostname()}`, (text) => text),
  },
  mqttCaFile: { name: "MQTT_CA_FILE", description: "CA certificate (PEM) for mqtts://", parse: optionalText },
  httpPort: {
    name: "HTTP_PORT",
    description: "Port of /metrics, /healthz, /readyz, /api/meters",
    example: "9464",
    parse: withDefault("9464", integerIn(0, 65535)),
  },
  httpHost: {
    name: "HTTP_HOST",
    description:
      "Address the HTTP endpoints listen on (no authentication): default 127.0.0.1, 0.0.0.0 inside a container",
    example: "127.0.0.1",
    parse: withDefault(defaultHttpHost(), (text: string) => {
      if (!/^[0-9A-Za-z.:-]+$/.test(text)) throw new Error(`'${text}' is not a host address`);
      return text;
    }),
  },
  dbPath: {
    name: "DB_PATH",
    description: "SQLite file of the durable outbox and meter state",
    example: "./data/bridge.db",
    parse: withDefault("./data/bridge.db", (text) => text),
  },
  outboxMaxRows: {
    name: "OUTBOX_MAX_ROWS",
    description: "Readings kept while the broker is unreachable; beyond it the oldest are dropped",
    example: "1000000",
    parse: withDefault("1000000", integerIn(1, 1_000_000_000)),
  },
  logLevel: {
    name: "LOG_LEVEL",
    description: `One of ${LOG_LEVELS.join(", ")}`,
    example: "info",
    parse: withDefault("info", parseLogLevel),
  },
  maxConcurrentConnects: {
    name: "MAX_CONCURRENT_CONNECTS",
    description: "Meter associations opened at the same time",
    example: "32",
    parse: withDefault("32", integerIn(1, 10_000)),
  },
  breakerFailureThreshold: {
    name: "BREAKER_FAILURE_THRESHOLD",
    description: "Consecutive failed polls that open a meter's circuit breaker",
    example: "5",
    parse: withDefault("5", integerIn(1, 1000)),
  },
  breakerOpenSeconds: {
    name: "BREAKER_OPEN_SECONDS",
    description: "Seconds an open breaker waits before a trial poll",
    example: "60",
    parse: withDefault("60", integerIn(1, 86_400)),
  },
  eventRetentionDays: {
    name: "EVENT_RETENTION_DAYS",
    description: "Days meter events are kept in the database",
    example: "7",
    parse: withDefault("7", integerIn(1, 3650)),
  },
  gatewayDisconnectDelay: {
    name: "GATEWAY_DISCONNECT_DELAY",
    description:
      "Delay between the broker's ack of a meter's offline status and its gateway disconnect (the gateway needs ~0.3 s for the status; 1s..10m)",
    example: "2s",
    parse: withDefault("2s", durationIn(1000, 600_000)),
  },
  gatewayDisconnectRepeat: {
    name: "GATEWAY_DISCONNECT_REPEAT",
    description: "While a meter is offline its gateway disconnect is repeated this often (5s..1d, or off)",
    example: "60s",
    parse: withDefault("60s", (text: string) => (text === "off" ? 0 : durationIn(5000, 86_400_000)(text))),
  },
} satisfies Record<string, EnvVariable<unknown>>;

/** The global part of .env.example (meters are documented separately). */
export function renderEnvExample(): string {
  return Object.values(ENV as Record<string, EnvVariable<unknown>>)
    .map(
      (variable) =>
        `# ${variable.description}\n${variable.example === undefined ? "# " : ""}${variable.name}=${variable.example ?? ""}`,
    )
    .join("\n\n");
}
