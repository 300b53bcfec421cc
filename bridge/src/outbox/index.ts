export {
  Outbox,
  type OutboxMessage,
  type OutboxOptions,
  type OutboxRow,
  reportDrops,
  telemetryMessage,
} from "./outbox.js";
export { OutboxWriteHealth, rateLimitedCounter, type WriteHealthOptions } from "./write-health.js";
export { OutboxWriter, type OutboxWriterOptions, ReadingDroppedError, type WriterDropReason } from "./writer.js";
