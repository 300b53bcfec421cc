export {
  type HealthChecks,
  type HttpServerHandle,
  type HttpServerOptions,
  type MeterStatus,
  startHttpServer,
  stripSecrets,
} from "./http.js";
export { type PollerMetricsRecorder, pollerMetrics } from "./poller-metrics.js";
export {
  BREAKER_STATE_VALUE,
  type BreakerStateName,
  type BridgeMetrics,
  type CreateMetricsOptions,
  createMetrics,
  METRIC_PREFIX,
  type OutboxGaugeSource,
} from "./registry.js";
