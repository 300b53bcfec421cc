// Topics and payloads of docs/contracts.md (read by the ThingsBoard gateway's MQTT connector).
import type { Reading } from "../model.js";

export const BRIDGE_STATE_TOPIC = "dlms/bridge/state";

const METER_ID = /^[a-z0-9_-]+$/;

/** Meter ids become topic levels: anything else ('/', '+', '#', upper case) would break the gateway's mapping. */
function checkedMeter(meter: string): string {
  if (!METER_ID.test(meter)) throw new Error(`meter id '${meter}' is not lower-case letters, digits, '_' or '-'`);
  return meter;
}

export function telemetryTopic(meter: string): string {
  return `dlms/${checkedMeter(meter)}/telemetry`;
}

export function attributesTopic(meter: string): string {
  return `dlms/${checkedMeter(meter)}/attributes`;
}

export function statusTopic(meter: string): string {
  return `dlms/${checkedMeter(meter)}/status`;
}

/**
 * {"meter","ts",<key>:<number>...}. Throws for a value JSON cannot carry (NaN, Infinity) or a key that would
 * overwrite meter/ts, naming the meter and key.
 */
export function telemetryPayload(reading: Reading): string {
  checkedMeter(reading.meter);
  if (!Number.isFinite(reading.ts)) throw new Error(`reading of meter '${reading.meter}': ts is not a number`);
  const payload: Record<string, string | number> = { meter: reading.meter, ts: reading.ts };
  for (const [key, value] of Object.entries(reading.values)) {
    if (key === "meter" || key === "ts")
      throw new Error(`reading of meter '${reading.meter}': key '${key}' is reserved`);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(`reading of meter '${reading.meter}': value of '${key}' is not a finite number (${value})`);
    }
    payload[key] = value;
  }
  return JSON.stringify(payload);
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
  return `dlms/${checkedMeter(meter)}/${online ? "connect" : "disconnect"}`;
}

export function presencePayload(meter: string): string {
  return JSON.stringify({ meter: checkedMeter(meter) });
}

export function statusPayload(meter: string, online: boolean): string {
  return JSON.stringify({ meter: checkedMeter(meter), status: online ? "online" : "offline" });
}
