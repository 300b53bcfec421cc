export { type DeliveryHooks, deliveryHooks } from "./delivery-hooks.js";
export { MqttPublisher, type MqttPublisherOptions, type PublisherMetrics, publisherOptions } from "./mqtt-publisher.js";
export {
  attributesPayload,
  attributesTopic,
  BRIDGE_STATE_TOPIC,
  statusPayload,
  statusTopic,
  telemetryPayload,
  telemetryTopic,
} from "./payloads.js";
export { DEFAULT_PRESENCE, GatewayPresence, type PresenceOptions } from "./presence.js";
