// Builds the whole BridgeConfig from the environment, collecting every problem before reporting them together.
import { existsSync } from "node:fs";
import type { MeterConfig } from "../model.js";
import { ConfigError, scrubSecrets } from "./errors.js";
import { parseMeterUrl } from "./meter-url.js";
import { ENV, type EnvVariable } from "./schema.js";

export interface MqttConfig {
  url: string;
  username?: string;
  password?: string; // SECRET
  clientId: string;
  caFile?: string;
}

export interface BridgeConfig {
  meters: MeterConfig[];
  mqtt: MqttConfig;
  httpPort: number;
  httpHost: string;
  dbPath: string;
  outboxMaxRows: number;
  logLevel: string;
  maxConcurrentConnects: number;
  breaker: { failureThreshold: number; openMs: number };
  eventRetentionDays: number;
  /** Gateway presence (publish/presence.ts): disconnect delay after the offline status's PUBACK, repeat period (0 = off). */
  presence: { settleMs: number; repeatMs: number };
}

export type LoadConfigResult = { ok: true; config: BridgeConfig } | { ok: false; errors: string[] };

const METER_VARIABLE = /^METER_(.*)$/;
/** Companions of METER_<ID> holding its secrets: the LLS password and the HLS-GMAC keys. */
const PASSWORD_SUFFIX = /_(PASSWORD|AUTH_KEY|BLOCK_KEY)$/i;

export function loadConfig(env: NodeJS.ProcessEnv): LoadConfigResult {
  const errors: string[] = [];
  const read = <T>(variable: EnvVariable<T>): T | undefined => {
    try {
      return variable.parse(env[variable.name]);
    } catch (error) {
      const detail = (error as Error).message;
      const safe = variable.secret ? "is invalid" : scrubSecrets(detail, [env.MQTT_PASSWORD]);
      errors.push(`${variable.name}: ${safe}`);
      return undefined;
    }
  };

  const meters = loadMeters(env, errors);
  const mqtt: Partial<MqttConfig> = {
    url: read(ENV.mqttUrl),
    username: read(ENV.mqttUsername),
    password: read(ENV.mqttPassword),
    clientId: read(ENV.mqttClientId),
    caFile: read(ENV.mqttCaFile),
  };
  if (mqtt.caFile !== undefined && !existsSync(mqtt.caFile)) {
    errors.push(`${ENV.mqttCaFile.name}: file '${mqtt.caFile}' does not exist`);
  }
  if (mqtt.password !== undefined && mqtt.username === undefined) {
    errors.push(`${ENV.mqttPassword.name}: is set but ${ENV.mqttUsername.name} is not`);
  }
  const httpPort = read(ENV.httpPort);
  const httpHost = read(ENV.httpHost);
  const dbPath = read(ENV.dbPath);
  const outboxMaxRows = read(ENV.outboxMaxRows);
  const logLevel = read(ENV.logLevel);
  const maxConcurrentConnects = read(ENV.maxConcurrentConnects);
  const failureThreshold = read(ENV.breakerFailureThreshold);
  const openSeconds = read(ENV.breakerOpenSeconds);
  const eventRetentionDays = read(ENV.eventRetentionDays);
  const settleMs = read(ENV.gatewayDisconnectDelay);
  const repeatMs = read(ENV.gatewayDisconnectRepeat);

  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      meters,
      mqtt: {
        url: mqtt.url!,
        clientId: mqtt.clientId!,
        ...(mqtt.username !== undefined ? { username: mqtt.username } : {}),
        ...(mqtt.password !== undefined ? { password: mqtt.password } : {}),
        ...(mqtt.caFile !== undefined ? { caFile: mqtt.caFile } : {}),
      },
      httpPort: httpPort!,
      httpHost: httpHost!,
      dbPath: dbPath!,
      outboxMaxRows: outboxMaxRows!,
      logLevel: logLevel!,
      maxConcurrentConnects: maxConcurrentConnects!,
      breaker: { failureThreshold: failureThreshold!, openMs: openSeconds! * 1000 },
      eventRetentionDays: eventRetentionDays!,
      presence: { settleMs: settleMs!, repeatMs: repeatMs! },
    },
  };
}

/** Every METER_<ID> except the METER_<ID>_PASSWORD companions, sorted by id for a stable order. */
function loadMeters(env: NodeJS.ProcessEnv, errors: string[]): MeterConfig[] {
  const meters: MeterConfig[] = [];
  const variableById = new Map<string, string>();
  const names = Object.keys(env)
    .filter((name) => METER_VARIABLE.test(name) && !PASSWORD_SUFFIX.test(name))
    .sort();
  for (const name of names) {
    const id = METER_VARIABLE.exec(name)![1]!;
    try {
      const meter = parseMeterUrl(id, env[name] ?? "", env);
      const previous = variableById.get(meter.id);
      if (previous) errors.push(`${name}: meter id '${meter.id}' is already defined by ${previous}`);
      else variableById.set(meter.id, name);
      meters.push(meter);
    } catch (error) {
      if (error instanceof ConfigError) errors.push(...error.errors);
      else throw error;
    }
  }
  if (names.length === 0) errors.push("METER_<ID>: no meter configured (e.g. METER_PLANT1=hdlc://10.0.0.5:4059)");
  for (const name of Object.keys(env).filter((n) => METER_VARIABLE.test(n) && PASSWORD_SUFFIX.test(n))) {
    const meterVariable = name.replace(PASSWORD_SUFFIX, "");
    if (env[meterVariable] === undefined)
      errors.push(`${name}: there is no ${meterVariable} for this ${/_PASSWORD$/i.test(name) ? "password" : "key"}`);
  }
  return meters;
}

/** For CLI entry points: the config, or every error on stderr and exit status 2. */
export function loadConfigOrExit(env: NodeJS.ProcessEnv): BridgeConfig {
  const result = loadConfig(env);
  if (result.ok) return result.config;
  process.stderr.write(`dlms-bridge: invalid configuration (${result.errors.length} problem(s)):\n`);
  for (const error of result.errors) process.stderr.write(`  - ${error}\n`);
  process.exit(2);
}
