// The delivery side of the polling engine's callbacks: readings go to the durable outbox (batched); attributes and
// reachability go through the gateway presence, which writes them to the same outbox in order (presence.ts).
import type { Logger } from "../log.js";
import type { Reading } from "../model.js";
import { type OutboxWriter, ReadingDroppedError } from "../outbox/writer.js";
import type { GatewayPresence } from "./presence.js";

export interface DeliveryHooks {
  onReading(reading: Reading): void;
  onAttributes(meter: string, attrs: Record<string, string | number>): void;
  onMeterStatus(meter: string, online: boolean): void;
}

export function deliveryHooks(
  writer: Pick<OutboxWriter, "write">,
  presence: Pick<GatewayPresence, "online" | "offline" | "attributes">,
  log: Pick<Logger, "error">,
): DeliveryHooks {
  return {
    onReading(reading) {
      writer.write(reading).catch((error: unknown) => {
        if (error instanceof ReadingDroppedError) return; // counted and logged (rate-limited) by the writer's owner
        log.error(
          { meter: reading.meter, ts: reading.ts, err: { message: (error as Error).message } },
          "reading could not be stored: it is lost",
        );
      });
    },
    onAttributes(meter, attrs) {
      presence.attributes(meter, attrs);
    },
    onMeterStatus(meter, online) {
      if (online) presence.online(meter);
      else presence.offline(meter);
    },
  };
}
