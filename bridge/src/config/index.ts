export { parseDuration } from "./duration.js";
export { ConfigError } from "./errors.js";
export { type BridgeConfig, type LoadConfigResult, loadConfig, loadConfigOrExit, type MqttConfig } from "./load.js";
export {
  METER_DEFAULTS,
  meterPasswordVariable,
  type PublicMeterConfig,
  parseMeterUrl,
  withoutSecrets,
} from "./meter-url.js";
export { normalizeObis } from "./obis.js";
export { parseRegisters, REGISTER_SETS } from "./register-sets.js";
export { ENV, renderEnvExample } from "./schema.js";
