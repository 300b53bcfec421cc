// The delivery side of the polling engine's callbacks: readings go to the durable outbox (batched), attributes
// and reachability become retained messages.
import type { Logger } from "../log.js";
import type { Reading } from "../model.js";
import type { OutboxWriter } from "../outbox/writer.js";
import type { MqttPublisher } from "./mqtt-publisher.js";
import { attributesPayload, attributesTopic, statusPayload, statusTopic } from "./payloads.js";

export interface DeliveryHooks {
  onReading(reading: Reading): void;
  onAttributes(meter: string, attrs: Record<string, string | number>): void;
  onMeterStatus(meter: string, online: boolean): void;
}

export function deliveryHooks(
  writer: Pick<OutboxWriter, "write">,
  publisher: Pick<MqttPublisher, "publishRetained">,
  log: Pick<Logger, "error">,
): DeliveryHooks {
  return {
    onReading(reading) {
      writer.write(reading).catch((error: unknown) => {
        log.error(
          { meter: reading.meter, ts: reading.ts, err: { message: (error as Error).message } },
          "reading could not be stored: it is lost",
        );
      });
    },
    onAttributes(meter, attrs) {
      publisher.publishRetained(attributesTopic(meter), attributesPayload(meter, attrs));
    },
    onMeterStatus(meter, online) {
      publisher.publishRetained(statusTopic(meter), statusPayload(meter, online));
    },
  };
}
