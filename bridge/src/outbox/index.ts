export { Outbox, type OutboxMessage, type OutboxOptions, type OutboxRow, telemetryMessage } from "./outbox.js";
export { OutboxWriter, type OutboxWriterOptions } from "./writer.js";
