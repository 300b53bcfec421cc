// The ThingsBoard IoT gateway's MQTT connector configuration (tb-gateway/config/mqtt.json), built from the same
// topic functions as the payloads, so the two cannot drift apart. Format: gateway 3.x "dataMapping" /
// "requestsMapping" (thingsboard_gateway/connectors/mqtt/mqtt_connector.py, JSON converter
// json_mqtt_uplink_converter.py). Regenerate the file with `npm run -w bridge gateway-config`;
// bridge/test/stack/gateway.test.ts fails while the committed file differs from this.
import { meterTopicFilter } from "./payloads.js";

/** Device profile of thingsboard/device-profile-dlms-meter.json. */
export const DEVICE_PROFILE = "DLMS meter";
/** Fixed MQTT client id of the connector on Mosquitto: never the bridge's (they would kick each other off). */
export const GATEWAY_CLIENT_ID = "tb-gateway-dlms";

/** The gateway's expression for a top-level payload field: ${name}. */
const field = (name: string) => `\${${name}}`;

// Device name = the payload's top-level "meter" field (the lower-case id of METER_<ID>), on every topic.
const DEVICE_INFO = {
  deviceNameExpressionSource: "message",
  deviceNameExpression: field("meter"),
  deviceProfileExpressionSource: "constant",
  deviceProfileExpression: DEVICE_PROFILE,
} as const;

type DataPoints = Array<"*" | { type: string; key: string; value: string }>;

function dataMapping(topicFilter: string, attributes: DataPoints, timeseries: DataPoints) {
  return {
    topicFilter,
    subscriptionQos: 1,
    converter: {
      type: "json",
      deviceInfo: DEVICE_INFO,
      sendDataOnlyOnChange: false,
      timeout: 60000,
      attributes,
      timeseries,
    },
  };
}

export function gatewayConnectorConfig() {
  return {
    name: "DLMS bridge (Mosquitto)",
    logLevel: "INFO",
    broker: {
      name: "Mosquitto (compose)",
      host: "mosquitto",
      port: 1884,
      // Fixed client id + clean session false: Mosquitto keeps the subscriptions and queues QoS 1 messages while
      // the gateway is away (mosquitto/config/mosquitto.conf: max_queued_messages).
      clientId: GATEWAY_CLIENT_ID,
      version: 4,
      cleanSession: false,
      // Only read when "version" is 5: the same persistence in MQTT 5 terms (14 days).
      cleanStart: false,
      sessionExpiryInterval: 1209600,
      keepAlive: 60,
      maxMessageNumberPerWorker: 10,
      maxNumberOfWorkers: 100,
      sendDataOnlyOnChange: false,
      security: { type: "anonymous" },
    },
    dataMapping: [
      // {"meter","ts","values":{...}}: "*" makes the converter send exactly `values` (any register key, including
      // a user's own from .env, with its JSON number type) stamped with `ts`, the meter's read time; no meter/ts keys.
      dataMapping(meterTopicFilter("telemetry"), [], ["*"]),
      // Attributes after each (re)association: serial_number, logical_device_name, firmware, transport and a
      // unit_<key> per register, whatever the keys are ("*" also forwards `meter`, equal to the device name).
      dataMapping(meterTopicFilter("attributes"), ["*"], []),
      // Load-profile rows (backfill): a JSON array of {"meter","ts","values"}; the converter takes each item like a
      // telemetry payload and merges them into one message per device, each row at the meter's own ts.
      dataMapping(meterTopicFilter("profile"), [], ["*"]),
      // Reachability as the bridge sees it ("online" / "offline"): the client attribute "status".
      dataMapping(meterTopicFilter("status"), [{ type: "string", key: "status", value: field("status") }], []),
    ],
    requestsMapping: {
      // Device connect / disconnect through the gateway API, on topics of their own: the connector picks a
      // handler by topic alone, and a topic of dataMapping is never handled as a request.
      connectRequests: [{ topicFilter: meterTopicFilter("connect"), deviceInfo: DEVICE_INFO }],
      disconnectRequests: [{ topicFilter: meterTopicFilter("disconnect"), deviceInfo: DEVICE_INFO }],
      attributeRequests: [],
      attributeUpdates: [],
      serverSideRpc: [],
    },
  };
}

/** The file's exact text: two-space JSON and a final newline. */
export function gatewayConnectorJson(): string {
  return `${JSON.stringify(gatewayConnectorConfig(), null, 2)}\n`;
}
