// The production MeterSession: one DlmsClient association over TCP (HDLC or wrapper), with the register reads of
// client/reads.ts. A new session (and so a new scaler cache) is made for every association.

import { DlmsClient } from "../client/client.js";
import type { ObjectRef } from "../client/object-ref.js";
import { readMeterClock } from "../client/profile.js";
import { type ObjectReadingJson, readingToJson } from "../client/reading-json.js";
import { readAttributes, readRegisters, ScalerCache } from "../client/reads.js";
import type { AuthSettings, DlmsClientOptions, HlsGmacSettings, LinkSettings } from "../client/types.js";
import { dataToJson } from "../dlms/cosem/display.js";
import { parseObis } from "../dlms/cosem/obis.js";
import { InternTable } from "../dlms/intern.js";
import type { MeterConfig, RegisterSpec } from "../model.js";
import { TcpTransport } from "../transport/tcp.js";
import type { Transport } from "../transport/types.js";
import { type HlsSupport, hlsAuthSettings, readMeterFrameCounter } from "./hls-auth.js";
import type { MeterClockInfo, ProfileBackfill } from "./profile/backfill.js";
import type { BackgroundWork, MeterSession, RegisterOutcome, SessionFactory, SessionHooks } from "./types.js";

/** Published as attributes after each association; a meter lacking one simply omits it. */
export const DEVICE_ATTRIBUTES: readonly RegisterSpec[] = [
  { key: "serial_number", obis: "0.0.96.1.0.255", classId: 1, attributeId: 2 },
  { key: "logical_device_name", obis: "0.0.42.0.0.255", classId: 1, attributeId: 2 },
  { key: "firmware", obis: "1.0.0.2.0.255", classId: 1, attributeId: 2 },
];

/** Keep-alive target: logical_name of the current association, which every LN meter has. */
const CURRENT_ASSOCIATION_NAME = { classId: 15, instanceId: parseObis("0.0.40.0.0.255"), attributeId: 1 };

export interface DlmsSessionFactoryOptions {
  /** Default: TCP to meter.host:meter.port. Tests pass an in-memory transport. */
  transport?: (meter: MeterConfig) => Transport;
  /** The meter's load-profile backfill (lives across associations), for meters with profile=. */
  backfill?: (meter: MeterConfig) => ProfileBackfill | undefined;
  /** HLS-GMAC meters (auth=hls-gmac): persistent invocation counters and the security-failure metric. */
  hls?: HlsSupport;
}

/**
 * Sessions for real meters. Remembers per meter whether the last association ended uncleanly (failed connect,
 * dropped link, watchdog): the next connect then sends DISC before SNRM to free a meter still holding it, and only
 * then, since some meters dislike a DISC out of the blue.
 */
export function createDlmsSessionFactory(options: DlmsSessionFactoryOptions = {}): SessionFactory {
  const uncleanEnd = new Set<string>();
  const transportFor =
    options.transport ??
    ((meter: MeterConfig) =>
      new TcpTransport({ host: meter.host, port: meter.port, connectTimeoutMs: meter.timeoutMs }));
  const autoIcPending = new Set<string>();
  return (meter, hooks) => {
    const hls = meter.auth === "hls-gmac" ? hlsLifecycle(meter, options.hls, autoIcPending, transportFor) : undefined;
    return new DlmsSession(meter, hooks, transportFor(meter), uncleanEnd, options.backfill?.(meter), hls);
  };
}

/**
 * The HLS part of a session: auth settings over the meter's persistent counter, and for ic=auto a read of the
 * meter's counter object before the first association (and again after the meter refused our counter).
 */
function hlsLifecycle(
  meter: MeterConfig,
  support: HlsSupport | undefined,
  autoIcDone: Set<string>,
  transportFor: (meter: MeterConfig) => Transport,
): SessionHls {
  if (!support) throw new Error(`meter ${meter.id}: auth=hls-gmac needs the invocation counter store`);
  const counter = support.counterFor(meter);
  return {
    auth: hlsAuthSettings(meter, counter),
    async beforeConnect() {
      if (meter.hls?.ic !== "auto" || autoIcDone.has(meter.id)) return;
      const value = await readMeterFrameCounter(meter, transportFor(meter));
      if (value !== undefined) counter.raiseTo(value);
      autoIcDone.add(meter.id);
    },
    onSecurityFailure(check) {
      if (check === "invocation-counter") autoIcDone.delete(meter.id);
      support.onSecurityFailure?.(meter.id, check);
    },
  };
}

interface SessionHls {
  auth: HlsGmacSettings;
  beforeConnect(): Promise<void>;
  onSecurityFailure(check: string): void;
}

export class DlmsSession implements MeterSession {
  private readonly client: DlmsClient;
  private readonly scalerCache = new ScalerCache();
  private ended = false;
  /** Set by readAttributes when the meter has load profiles to backfill. */
  background: BackgroundWork | undefined;

  /**
   * `uncleanEnd` is the factory's set of meters whose last association did not end cleanly: this session's connect
   * sends DISC first when its meter is in it, and its end updates it. (Plain fields and the factory's one set, not
   * an options object and a closure per session: BENCHMARKS.md, issue 9, seventh round.)
   */
  constructor(
    private readonly meter: MeterConfig,
    hooks: SessionHooks,
    transport: Transport,
    private readonly uncleanEnd: Set<string>,
    private readonly backfill?: ProfileBackfill,
    private readonly hls?: SessionHls,
  ) {
    this.client = new DlmsClient(clientOptions(meter, hooks, transport, uncleanEnd.has(meter.id), hls));
  }

  async connect(): Promise<void> {
    try {
      await this.hls?.beforeConnect();
      await this.client.connect();
    } catch (error) {
      this.end(false);
      throw error;
    }
  }

  readRegisters(specs: readonly RegisterSpec[]): Promise<Record<string, RegisterOutcome>> {
    // A RegisterReading is a RegisterOutcome (value and unit, or error and reason) plus detail the worker ignores.
    return readRegisters(this.client, specs, this.scalerCache);
  }

  async readObjects(objects: ObjectRef[]): Promise<ObjectReadingJson[]> {
    const specs = objects.map((ref, i) => ({ key: `#${i}`, ...ref }));
    const readings = await readAttributes(this.client, specs, this.scalerCache);
    return specs.map((spec) => readingToJson(spec, readings[spec.key]!));
  }

  async readAttributes(): Promise<Record<string, string | number>> {
    const readings = await readAttributes(this.client, DEVICE_ATTRIBUTES);
    const out: Record<string, string | number> = {};
    for (const [key, reading] of Object.entries(readings)) {
      if (reading.ok) out[key] = String(dataToJson(reading.data));
    }
    const backfill = this.backfill;
    if (backfill?.enabled) {
      const clock = await measureClock(this.client);
      if (clock) out.clock_drift_s = Math.round(clock.driftMs / 100) / 10;
      this.background = backfill.work(this.client, clock);
    }
    return out;
  }

  /** Any answer, even a data-access-result, proves the association is alive. */
  async keepAlive(): Promise<void> {
    await this.client.getMany([CURRENT_ASSOCIATION_NAME]);
  }

  async release(): Promise<void> {
    await this.client.release();
    this.end(true);
  }

  close(): void {
    this.client.close();
    this.end(false);
  }

  private end(clean: boolean): void {
    if (this.ended) return;
    this.ended = true;
    if (clean) this.uncleanEnd.delete(this.meter.id);
    else this.uncleanEnd.add(this.meter.id);
  }
}

/** The meter's clock against ours (drift), read at association; undefined when it has no readable clock. */
async function measureClock(client: DlmsClient): Promise<MeterClockInfo | undefined> {
  const before = Date.now();
  const clock = await readMeterClock(client);
  const after = Date.now();
  if (!clock) return undefined;
  return {
    driftMs: clock.ms - (before + after) / 2,
    ...(clock.deviationMinutes === undefined ? {} : { deviationMinutes: clock.deviationMinutes }),
  };
}

function clientOptions(
  meter: MeterConfig,
  hooks: SessionHooks,
  transport: Transport,
  discFirst: boolean,
  hls?: SessionHls,
): DlmsClientOptions {
  const options: DlmsClientOptions = {
    transport,
    link: linkSettings(meter),
    auth: hls ? hls.auth : meter.auth === "low" ? { mechanism: "low", password: meter.password ?? "" } : NO_AUTH,
    timeoutMs: meter.timeoutMs,
    ...(meter.deadlineMs === undefined ? {} : { requestDeadlineMs: meter.deadlineMs }),
    ...(meter.maxReplyBytes === undefined ? {} : { maxReplyBytes: meter.maxReplyBytes }),
    discFirst,
  };
  const id = meter.id;
  if (hooks.onFrame) options.onFrameSize = (direction, bytes) => hooks.onFrame?.(id, direction, bytes);
  if (hls) options.onSecurityFailure = (check) => hls.onSecurityFailure(check);
  if (hooks.onDiscarded) {
    options.onDiscarded = (error) => hooks.onDiscarded?.(id, "code" in error ? String(error.code) : error.name);
  }
  return options;
}

const linkTable = new InternTable<LinkSettings>();

/** The meter's link settings: frozen, shared by every meter with the same addressing (they were ≈ 0.1 kB per session). */
export function linkSettings(meter: MeterConfig): LinkSettings {
  const { transport, clientAddress, serverLogical, serverPhysical, addressSize } = meter;
  return linkTable.get(`${transport}/${clientAddress}/${serverLogical}/${serverPhysical}/${addressSize}`, () => {
    if (transport === "wrapper") {
      return deepFreeze({ kind: "wrapper", clientAddress, serverAddress: { logical: serverLogical } });
    }
    return deepFreeze({
      kind: "hdlc",
      clientAddress,
      serverAddress: {
        logical: serverLogical,
        ...(serverPhysical === undefined ? {} : { physical: serverPhysical }),
        ...(addressSize === undefined ? {} : { size: addressSize }),
      },
    });
  });
}

function deepFreeze(settings: LinkSettings): LinkSettings {
  Object.freeze(settings.serverAddress);
  return Object.freeze(settings);
}

const NO_AUTH: AuthSettings = Object.freeze({ mechanism: "none" });

/** The default SessionFactory: TCP, DISC-before-SNRM after an unclean end. */
export const dlmsSessionFactory: SessionFactory = createDlmsSessionFactory();
