// HLS-GMAC for polled meters: builds the client's auth settings from the meter's config, its persistent invocation
// counter and the metric hook, and (ic=auto) reads the meter's invocation counter object through the public
// client before the first ciphered association.
import { DlmsClient } from "../client/client.js";
import type { HlsGmacSettings } from "../client/types.js";
import { fromHex } from "../dlms/codec/hex.js";
import { parseObis } from "../dlms/cosem/obis.js";
import type { MeterConfig } from "../model.js";
import type { Transport } from "../transport/types.js";
import { linkSettings } from "./dlms-session.js";

/** The counter interface the client needs, plus the meter's replay floor (store/invocation-counters.ts). */
export interface MeterInvocationCounter {
  next(): number;
  raiseTo(value: number): void;
  readonly lastServerCounter: number | undefined;
  recordServerCounter(value: number): void;
}

export interface HlsSupport {
  /** The persistent counter of (meter, client SAP, keys). */
  counterFor(meter: MeterConfig): MeterInvocationCounter;
  /** A security check failed (metric). */
  onSecurityFailure?(meter: string, check: string): void;
}

/** IDIS-style invocation counter object, read by the public client (SAP 16). */
export const FRAME_COUNTER = { classId: 1, instanceId: parseObis("0.0.43.1.0.255"), attributeId: 2 };
const PUBLIC_CLIENT_SAP = 16;

export function hlsAuthSettings(meter: MeterConfig, counter: MeterInvocationCounter): HlsGmacSettings {
  const hls = meter.hls;
  const keys = meter.keys;
  if (!hls || !keys) throw new Error(`meter ${meter.id}: auth=hls-gmac without its settings or keys`);
  return {
    mechanism: "hls-gmac",
    policy: hls.security,
    systemTitle: fromHex(hls.systemTitle),
    keys,
    counter,
    ...(hls.serverSystemTitle ? { serverSystemTitle: fromHex(hls.serverSystemTitle) } : {}),
    ...(counter.lastServerCounter !== undefined ? { lastServerCounter: counter.lastServerCounter } : {}),
    onServerCounter: (value) => counter.recordServerCounter(value),
  };
}

/** ic=auto: the value of 0.0.43.1.0.255 via the public client, or undefined when the meter does not publish it. */
export async function readMeterFrameCounter(meter: MeterConfig, transport: Transport): Promise<number | undefined> {
  const link = linkSettings({ ...meter, clientAddress: PUBLIC_CLIENT_SAP });
  const client = new DlmsClient({ transport, link, auth: { mechanism: "none" }, timeoutMs: meter.timeoutMs });
  try {
    await client.connect();
    const data = await client.get(FRAME_COUNTER);
    await client.release();
    return "value" in data && typeof data.value === "number" ? data.value : undefined;
  } catch {
    client.close();
    return undefined;
  }
}
