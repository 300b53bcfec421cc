// HLS-GMAC for polled meters: builds the client's auth settings from the meter's config, its persistent invocation
// counter and the metric hook, and (ic=auto) reads the meter's invocation counter object through the public
// client before the first ciphered association.
import { readFrameCounter } from "../client/frame-counter.js";
import type { HlsGmacSettings } from "../client/types.js";
import { fromHex } from "../dlms/codec/hex.js";
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
export function readMeterFrameCounter(meter: MeterConfig, transport: Transport): Promise<number | undefined> {
  return readFrameCounter(linkSettings(meter), transport, meter.timeoutMs);
}
