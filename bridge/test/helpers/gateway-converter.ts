// A model of what the ThingsBoard IoT gateway 3.8.3 does with one MQTT message of a connector "dataMapping",
// written from its source (Apache-2.0; read, not copied): thingsboard_gateway/connectors/mqtt/
// json_mqtt_uplink_converter.py (`_convert_single_item`), gateway/entities/telemetry_entry.py (`TelemetryEntry`),
// tb_utility/tb_utility.py (`get_value`, `resolve_different_ts_formats`). Measured behaviour it must agree with:
// ../shared/docs/thingsboard-gateway-facts.md ("JSON converter").

export interface DataPointConfig {
  type: string;
  key: string;
  value: string;
}

export interface ConverterConfig {
  type: string;
  deviceInfo: {
    deviceNameExpressionSource: string;
    deviceNameExpression: string;
    deviceProfileExpressionSource?: string;
    deviceProfileExpression?: string;
  };
  attributes: Array<"*" | DataPointConfig>;
  timeseries: Array<"*" | DataPointConfig>;
  useReceivedTs?: boolean;
}

export interface Converted {
  deviceName: string | undefined;
  deviceType: string | undefined;
  attributes: Record<string, unknown>;
  telemetry: Array<{ ts: number; values: Record<string, unknown> }>;
}

/** `${name}` -> "name" for every expression in a string. */
function tags(expression: string): string[] {
  return [...expression.matchAll(/\$\{([^}]*)\}/g)].map((m) => m[1]!);
}

/** get_value for a top-level key (the only form our config uses); undefined when absent. */
function lookup(body: unknown, tag: string): unknown {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return undefined;
  return Object.hasOwn(body, tag) ? (body as Record<string, unknown>)[tag] : undefined;
}

/** "message" source: each ${tag} replaced by the payload's value, or left as written when absent. */
function expand(expression: string, body: unknown): string {
  let result = expression;
  for (const tag of tags(expression)) {
    const value = lookup(body, tag);
    result = result.replace(`\${${tag}}`, value === undefined ? `\${${tag}}` : String(value));
  }
  return result;
}

function convertType(value: unknown, type: string): unknown {
  switch (type) {
    case "double":
      return Number(value);
    case "int":
    case "long":
      return Math.trunc(Number(value));
    case "bool":
      return value === true || value === "true";
    default:
      return String(value);
  }
}

/**
 * One JSON payload through the converter. `receivedAt` stands for the gateway's receive time (`time()` in the
 * converter), used where the payload gives no usable timestamp.
 */
export function convertJson(config: ConverterConfig, payload: unknown, receivedAt: number): Converted {
  const info = config.deviceInfo;
  const out: Converted = {
    deviceName: info.deviceNameExpressionSource === "message" ? expand(info.deviceNameExpression, payload) : undefined,
    deviceType:
      info.deviceProfileExpressionSource === "constant"
        ? info.deviceProfileExpression
        : info.deviceProfileExpression !== undefined
          ? expand(info.deviceProfileExpression, payload)
          : undefined,
    attributes: {},
    telemetry: [],
  };
  const body = (payload ?? {}) as Record<string, unknown>;
  for (const point of config.attributes) {
    if (point === "*") Object.assign(out.attributes, body);
    else {
      const value = lookup(body, tags(point.value)[0] ?? "");
      if (value !== undefined) out.attributes[point.key] = convertType(value, point.type);
    }
  }
  for (const point of config.timeseries) {
    if (point === "*") {
      // TelemetryEntry: a truthy "ts" AND a truthy "values" -> those; otherwise the whole payload at receive time.
      const ts = config.useReceivedTs === true ? receivedAt : undefined;
      if (body.ts && body.values)
        out.telemetry.push({ ts: body.ts as number, values: body.values as Record<string, unknown> });
      else out.telemetry.push({ ts: ts ?? receivedAt, values: { ...body } });
    } else {
      const value = lookup(body, tags(point.value)[0] ?? "");
      if (value === undefined) continue;
      const ts = config.useReceivedTs === true ? receivedAt : ((body.ts ?? body.timestamp ?? receivedAt) as number);
      out.telemetry.push({ ts, values: { [point.key]: convertType(value, point.type) } });
    }
  }
  return out;
}

/** The converter's worker forwards a result to storage only when it carries at least one datapoint. */
export function hasDatapoints(converted: Converted): boolean {
  return (
    Object.keys(converted.attributes).length > 0 ||
    converted.telemetry.some((entry) => Object.keys(entry.values).length > 0)
  );
}

/**
 * One MQTT message through the converter: a JSON array is converted item by item and merged per device
 * (json_mqtt_uplink_converter.py `convert`), anything else as one item.
 */
export function convertMessage(config: ConverterConfig, payload: unknown, receivedAt: number): Converted[] {
  if (!Array.isArray(payload)) return [convertJson(config, payload, receivedAt)];
  const byDevice = new Map<string | undefined, Converted>();
  for (const item of payload) {
    const converted = convertJson(config, item, receivedAt);
    const existing = byDevice.get(converted.deviceName);
    if (!existing) byDevice.set(converted.deviceName, converted);
    else {
      Object.assign(existing.attributes, converted.attributes);
      existing.telemetry.push(...converted.telemetry);
    }
  }
  return [...byDevice.values()];
}
