// Topics and payloads of docs/contracts.md (read by the ThingsBoard gateway's MQTT connector).
import type { Reading } from "../model.js";

export const BRIDGE_STATE_TOPIC = "dlms/bridge/state";

const METER_ID = /^[a-z0-9_-]+$/;

/** Meter ids become topic levels: anything else ('/', '+', '#', upper case) would break the gateway's mapping. */
function checkedMeter(meter: string): string {
  if (!METER_ID.test(meter)) throw new Error(`meter id '${meter}' is not lower-case letters, digits, '_' or '-'`);
  return meter;
}

/** The per-meter topics `dlms/<meter>/<kind>` (docs/contracts.md). */
export type MeterTopicKind = "telemetry" | "attributes" | "status" | "connect" | "disconnect" | "profile";

function meterTopic(meter: string, kind: MeterTopicKind): string {
  return `dlms/${checkedMeter(meter)}/${kind}`;
}

/** The subscription filter matching one kind of topic for every meter (the gateway connector's topicFilter). */
export function meterTopicFilter(kind: MeterTopicKind): string {
  return `dlms/+/${kind}`;
}

export function telemetryTopic(meter: string): string {
  return meterTopic(meter, "telemetry");
}

/** Load-profile rows (backfill): bridge/src/publish/profile-payload.ts. */
export function profileTopic(meter: string): string {
  return meterTopic(meter, "profile");
}

export function attributesTopic(meter: string): string {
  return meterTopic(meter, "attributes");
}

export function statusTopic(meter: string): string {
  return meterTopic(meter, "status");
}

/**
 * {"meter","ts","values":{<key>:<number>...}}: the shape the ThingsBoard gateway's JSON converter takes whole with
 * `"timeseries": ["*"]` (it sends only `values`, stamped with `ts`; `meter` names the device). Throws for a reading
 * without values (the converter would then forward meter/ts/values as keys), a value JSON cannot carry (NaN,
 * Infinity) or a non-integer ts, naming the meter and key.
 */
export function telemetryPayload(reading: Reading): string {
  checkedMeter(reading.meter);
  if (!Number.isSafeInteger(reading.ts) || reading.ts <= 0) {
    throw new Error(`reading of meter '${reading.meter}': ts is not a positive integer of ms (${reading.ts})`);
  }
  const values: Record<string, number> = {};
  for (const [key, value] of Object.entries(reading.values)) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(`reading of meter '${reading.meter}': value of '${key}' is not a finite number (${value})`);
    }
    values[key] = value;
  }
  if (Object.keys(values).length === 0) throw new Error(`reading of meter '${reading.meter}' has no values`);
  return JSON.stringify({ meter: reading.meter, ts: reading.ts, values });
}

/** {"meter", ...attrs}: serial_number, logical_device_name, firmware, transport, unit_<key>... */
export function attributesPayload(meter: string, attrs: Record<string, string | number | boolean>): string {
  const { meter: _ignored, ...rest } = attrs;
  return JSON.stringify({ meter: checkedMeter(meter), ...rest });
}

/**
 * Non-retained presence events for the gateway's connectRequests / disconnectRequests: their own topics, because
 * the gateway picks a request handler by topic alone (one topic for both would connect on "offline" too).
 */
export function presenceTopic(meter: string, online: boolean): string {
  return meterTopic(meter, online ? "connect" : "disconnect");
}

export function presencePayload(meter: string): string {
  return JSON.stringify({ meter: checkedMeter(meter) });
}

export function statusPayload(meter: string, online: boolean): string {
  return JSON.stringify({ meter: checkedMeter(meter), status: online ? "online" : "offline" });
}
