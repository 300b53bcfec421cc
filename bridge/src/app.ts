// Composition root of `dlms-bridge run`: wires config -> poller -> outbox -> MQTT, plus SQLite state/events,
// metrics and the HTTP surface, and owns the start/stop order. Start-up never waits for a meter or the broker:
// both are retried forever in the background, so a slow dependency cannot kill the process.

import type { BridgeConfig } from "./config/load.js";
import { withoutSecrets } from "./config/meter-url.js";
import type { Logger } from "./log.js";
import { type HttpServerHandle, startHttpServer } from "./metrics/http.js";
import { pollerMetrics } from "./metrics/poller-metrics.js";
import { createMetrics } from "./metrics/registry.js";
import { OutboxMaintenance } from "./outbox/maintenance.js";
import { Outbox, reportDrops } from "./outbox/outbox.js";
import { OutboxWriteHealth, reportWriterDrops } from "./outbox/write-health.js";
import { OutboxWriter, ReadingDroppedError } from "./outbox/writer.js";
import { createDlmsSessionFactory } from "./poller/dlms-session.js";
import { PollerEngine } from "./poller/engine.js";
import { createProfileBackfills } from "./poller/profile/setup.js";
import type { MeterEventKind, PollerHooks, SessionFactory } from "./poller/types.js";
import { deliveryHooks } from "./publish/delivery-hooks.js";
import { MqttPublisher, publisherOptions, withoutCredentials } from "./publish/mqtt-publisher.js";
import { meterTopicFilter } from "./publish/payloads.js";
import { DEFAULT_PRESENCE, GatewayPresence, type PresenceOptions } from "./publish/presence.js";
import { openDatabase } from "./store/db.js";
import { recordEvent, schedulePruning } from "./store/events.js";
import { hlsSupport } from "./store/invocation-counters.js";
import { saveMeterConfigs, saveMeterStates } from "./store/meters.js";
import { ProfileCursors } from "./store/profile-cursors.js";
import { MeterStateFlush } from "./store/state-flush.js";
import { isTransientWriteError } from "./store/write-errors.js";

/** What a stop left behind. */
export interface StopReport {
  /** Readings never stored nor acknowledged by the broker: lost (the exit status says so). */
  lost: number;
  /** Rows acknowledged by the broker whose delete the disk refused: sent again (unchanged) after a restart. */
  ackedUndeleted: number;
  /** Readings stored and not yet acknowledged: delivered after the next start. */
  pending: number;
  /** "outbox cannot write: disk full at <DB_PATH>" when the disk refused writes at the end. */
  problem?: string;
}

export interface BridgeApp {
  httpPort: number;
  /** SIGTERM path: stop polling, release associations, flush the outbox (bounded), close the DB. */
  stop(flushTimeoutMs?: number): Promise<StopReport>;
  readonly engine: PollerEngine;
  readonly publisher: MqttPublisher;
}

export interface StartOptions {
  sessionFactory?: SessionFactory; // tests/benchmarks may inject fakes
  stateFlushMs?: number;
  /** Rewrite of a meter's row whose only change is its last-success time, at most this often (default 60 s). */
  stateRefreshMs?: number;
  /** Presence towards the ThingsBoard gateway (tests shorten the delays). */
  presence?: Partial<PresenceOptions>;
}

/** Event kinds stored every time; noisy per-poll kinds are stored only when their reason changes. */
const NOISY_EVENTS: ReadonlySet<MeterEventKind> = new Set(["register-error", "read-failed", "connect-failed"]);

export async function startBridge(config: BridgeConfig, log: Logger, options: StartOptions = {}): Promise<BridgeApp> {
  const db = openDatabase(config.dbPath);
  const metrics = createMetrics();
  const waitingLimit = 10_000;
  let waitingInMemory = () => 0;
  // One rate-limited voice for "the disk refuses writes", whichever write found out.
  const health = new OutboxWriteHealth({ dbPath: config.dbPath, metrics, log, waiting: () => waitingInMemory() });
  let maintenance: OutboxMaintenance | undefined;
  const writeFailed = (error: unknown) => {
    health.failed(error);
    maintenance?.noteWriteFailure();
  };
  // A full disk at start-up is said in words and does not stop the bridge: readings wait in memory meanwhile.
  let configsSaved = false;
  const saveConfigs = async () => {
    await saveMeterConfigs(db, config.meters);
    configsSaved = true;
  };
  await saveConfigs().catch((error: unknown) => {
    if (!isTransientWriteError(error)) throw error;
    writeFailed(error);
  });
  const outbox = new Outbox(db, {
    maxRows: config.outboxMaxRows,
    onDropped: reportDrops(metrics, log, config.outboxMaxRows),
  });
  const drops = reportWriterDrops(metrics, log, { maxWaiting: waitingLimit, problem: () => health.message });
  const writer = new OutboxWriter(outbox, {
    maxWaiting: waitingLimit,
    onRetry: writeFailed,
    onCommitted: () => health.succeeded(),
    onDropped: drops.onDropped,
  });
  waitingInMemory = () => writer.waiting;
  metrics.observeOutbox({
    pending: () => outbox.pending(),
    oldestAgeMs: (now) => outbox.oldestAgeMs(now),
    waitingInMemory: () => writer.waiting,
    ackedUndeleted: () => outbox.ackedUndeleted(),
  });
  maintenance = new OutboxMaintenance({ db, outbox, onWriteError: writeFailed, log });
  const publisher = new MqttPublisher(
    // Older versions published status and attributes retained: a gateway re-subscribing would re-connect every
    // meter from them. They are cleared once found (presence.ts).
    { ...publisherOptions(config.mqtt), clearRetained: [meterTopicFilter("status"), meterTopicFilter("attributes")] },
    outbox,
    metrics,
    log,
    { onDeleteFailed: writeFailed },
  );
  const presenceOptions: PresenceOptions = { ...DEFAULT_PRESENCE, ...config.presence, ...options.presence };
  const presence = new GatewayPresence({ writer, outbox, acks: publisher, log }, presenceOptions);
  const stopPruning = schedulePruning(db, config.eventRetentionDays, (error) =>
    log.warn({ err: { message: (error as Error).message } }, "event pruning failed"),
  );

  const storeError = (what: string) => (error: unknown) => {
    if (error instanceof ReadingDroppedError) return; // counted and logged by `drops`
    if (isTransientWriteError(error)) writeFailed(error);
    else log.warn({ err: { message: (error as Error).message } }, `could not store ${what}`);
  };
  const delivery = deliveryHooks(writer, presence, log);
  const recorder = pollerMetrics(metrics);
  // Load profiles (profile=): rows and cursor go to SQLite together; see poller/profile/backfill.ts.
  const backfills = createProfileBackfills(config.meters, {
    cursors: new ProfileCursors(db, outbox),
    metrics,
    log,
    onProblem: (meter, profile, error) =>
      recordEvent(db, { meter, kind: "profile-error", detail: { profile, error }, ts: Date.now() }).catch(
        storeError("event"),
      ),
  });
  const lastNoisy = new Map<string, string>();
  const stateFlush = new MeterStateFlush(options.stateRefreshMs);

  const hooks: PollerHooks = {
    onReading(reading) {
      recorder.onReading(reading);
      delivery.onReading(reading);
    },
    onAttributes(meter, attrs) {
      if (typeof attrs.clock_drift_s === "number") metrics.meterClockDriftSeconds.set({ meter }, attrs.clock_drift_s);
      delivery.onAttributes(meter, attrs);
    },
    onMeterStatus(meter, online) {
      delivery.onMeterStatus(meter, online);
      log.info({ meter, online }, online ? "meter online" : "meter offline");
    },
    onEvent(meter, kind, detail) {
      recorder.onEvent(meter, kind, detail);
      const level = kind === "connect" || kind === "disconnect" ? "info" : "warn";
      log[level]({ meter, event: kind, ...detail }, kind);
      if (NOISY_EVENTS.has(kind)) {
        const key = `${meter}\u0000${kind}\u0000${String(detail.key ?? "")}`;
        const reason = String(detail.reason ?? detail.error ?? "");
        if (lastNoisy.get(key) === reason) return;
        lastNoisy.set(key, reason);
      } else if (kind === "connect") {
        for (const k of lastNoisy.keys()) if (k.startsWith(`${meter}\u0000`)) lastNoisy.delete(k);
      }
      recordEvent(db, { meter, kind, detail, ts: Date.now() }).catch(storeError("event"));
    },
    onPoll: recorder.onPoll,
    onState(meter, state) {
      recorder.onState(meter, state);
      stateFlush.note(state);
    },
    onFrame: recorder.onFrame,
    onDiscarded(meter, reason) {
      recorder.onDiscarded(meter, reason);
      log.warn({ meter, reason }, "frame discarded");
    },
  };

  const engine = new PollerEngine({
    meters: config.meters,
    sessionFactory:
      options.sessionFactory ??
      createDlmsSessionFactory({
        backfill: (m) => backfills.get(m.id),
        hls: hlsSupport(db, (meter, check) => metrics.securityFailuresTotal.inc({ meter, check })),
      }),
    hooks,
    maxConcurrentConnects: config.maxConcurrentConnects,
    breaker: config.breaker,
    onHookError: (error) => log.error({ err: { message: (error as Error).message } }, "poller hook failed"),
  });

  // Meter state goes to SQLite in the background, latest state per meter only (bounded by the meter count).
  const flushStates = async ({ all = false } = {}) => {
    if (!configsSaved) await saveConfigs();
    const rows = stateFlush.take(Date.now(), all);
    try {
      await saveMeterStates(db, rows);
    } catch (error) {
      stateFlush.retry(rows);
      throw error;
    }
  };
  const stateTimer = setInterval(() => flushStates().catch(storeError("meter state")), options.stateFlushMs ?? 5000);
  stateTimer.unref();

  const configById = new Map(config.meters.map((m) => [m.id, withoutSecrets(m)]));
  const http: HttpServerHandle = await startHttpServer({
    port: config.httpPort,
    host: config.httpHost,
    metrics,
    log,
    health: () => {
      // A disk that has room again with nothing waiting to prove it (no meter polled since): the probe says so.
      const probe = db.isWritable();
      if (probe && writer.waiting === 0) health.succeeded();
      return {
        mqttConnected: publisher.connected,
        dbWritable: probe && health.writable,
        ...(health.message !== undefined ? { dbProblem: health.message } : {}),
      };
    },
    readMeter: (id, objects, deadlineMs) => engine.readNow(id, objects, deadlineMs),
    meters: () =>
      engine.status().map((s) => {
        const m = configById.get(s.meter);
        return {
          id: s.meter,
          transport: m?.transport,
          host: m?.host,
          port: m?.port,
          intervalMs: m?.intervalMs,
          registers: m?.registers.map((r) => r.key),
          up: s.up,
          connected: s.connected,
          breaker: s.breaker,
          consecutiveFailures: s.consecutiveFailures,
          lastResult: s.lastResult ?? null,
          lastSuccess: s.lastSuccessTs ?? null,
          lastError: s.lastError ?? null,
          lastErrorTs: s.lastErrorTs ?? null,
          skippedSlots: s.skippedSlots,
          watchdogRestarts: s.watchdogRestarts,
          failingRegisters: s.failingRegisters ?? {},
          ...(backfills.has(s.meter) ? { profiles: backfills.get(s.meter)!.status() } : {}),
        };
      }),
  });

  publisher.start();
  maintenance.start();
  engine.start();
  log.info(
    {
      meters: config.meters.map((m) => m.id),
      mqtt: withoutCredentials(config.mqtt.url),
      httpPort: http.port,
      db: config.dbPath,
    },
    "bridge started",
  );

  let stopping: Promise<StopReport> | undefined;
  const stop = (flushTimeoutMs = 5000) => {
    stopping ??= (async () => {
      log.info("stopping: polling stops, associations are released, the outbox is flushed");
      await engine.stop();
      // Every meter: status offline, then (settle delay after its PUBACK) the disconnect, before the outbox flush.
      // With the broker away nothing can be acknowledged: the status rows stay stored and the next start decides.
      const meterIds = config.meters.map((m) => m.id);
      const presenceTimeoutMs = publisher.connected ? presenceOptions.settleMs + 1500 : 0;
      if (!(await presence.shutdown(meterIds, presenceTimeoutMs))) {
        log.warn("stopping: meters' disconnects not sent (broker slow or away); the next start repeats them");
      }
      presence.close();
      // Last commit attempt; what the disk still refuses goes to the broker directly once the outbox has drained.
      const unstored = await writer.close();
      const { unsent } = await publisher.stop(flushTimeoutMs, unstored);
      if (unsent > 0) drops.onDropped(unsent, "shutdown", undefined);
      drops.flush();
      clearInterval(stateTimer);
      stopPruning();
      await flushStates({ all: true }).catch(storeError("meter state"));
      maintenance?.tick(); // a last delete retry (and compaction if drained)
      maintenance?.stop();
      const report: StopReport = {
        lost: unsent,
        ackedUndeleted: outbox.ackedUndeleted(),
        pending: outbox.pending(),
        ...(health.message !== undefined ? { problem: health.message } : {}),
      };
      await http.close();
      await db.close();
      log.info({ ...report, directlyPublished: unstored.length - unsent }, "bridge stopped");
      return report;
    })();
    return stopping;
  };

  return { httpPort: http.port, stop, engine, publisher };
}
