export {
  Outbox,
  type OutboxMessage,
  type OutboxOptions,
  type OutboxRow,
  reportDrops,
  telemetryMessage,
} from "./outbox.js";
export { OutboxWriter, type OutboxWriterOptions } from "./writer.js";
