#!/usr/bin/env python3
"""Generates tb-gateway/config/mqtt.json, the MQTT connector of the ThingsBoard IoT gateway 3.x ("dataMapping" /
"requestsMapping" format, read by thingsboard_gateway/connectors/mqtt/mqtt_connector.py).
Re-run after editing: python3 tb-gateway/tools/build-mqtt-json.py
bridge/test/stack/gateway.test.ts checks the result against the bridge's real topics and payloads
(bridge/src/publish/payloads.ts) and register sets (bridge/src/config/register-sets.ts)."""
import json
import os

# Telemetry keys of every named register set in bridge/src/config/register-sets.ts (the test fails if one is missing).
# Keys of custom `registers=key:OBIS` lists must be added here too, or they are not forwarded to ThingsBoard.
KEYS = ["voltage", "current", "frequency", "active_power", "active_energy",
        "voltage_l2", "voltage_l3", "current_l2", "current_l3", "power_factor", "reactive_power"]
ATTRIBUTES = ["serial_number", "logical_device_name", "firmware", "transport"]

# Device name = the payload's "meter" field (the lower-case id of METER_<ID>); profile = the device profile of
# thingsboard/device-profile-dlms-meter.json.
DEVICE_INFO = {
    "deviceNameExpressionSource": "message",
    "deviceNameExpression": "${meter}",
    "deviceProfileExpressionSource": "constant",
    "deviceProfileExpression": "DLMS meter",
}


def mapping(topic, attributes, timeseries):
    return {
        "topicFilter": topic,
        "subscriptionQos": 1,
        "converter": {
            "type": "json",
            "deviceInfo": DEVICE_INFO,
            "sendDataOnlyOnChange": False,
            "timeout": 60000,
            "attributes": attributes,
            "timeseries": timeseries,
        },
    }


config = {
    "name": "DLMS bridge (Mosquitto)",
    "logLevel": "INFO",
    "broker": {
        "name": "Mosquitto (compose)",
        "host": "mosquitto",
        "port": 1884,
        # Fixed client id + clean session false: Mosquitto keeps the subscriptions and queues QoS 1 messages while
        # the gateway restarts (mosquitto/config/mosquitto.conf: max_queued_messages). Never reuse this id.
        "clientId": "tb-gateway-dlms",
        "version": 4,
        "cleanSession": False,
        # Only read when "version" is 5: the same persistence expressed in MQTT 5 terms (14 days).
        "cleanStart": False,
        "sessionExpiryInterval": 1209600,
        "keepAlive": 60,
        "maxMessageNumberPerWorker": 10,
        "maxNumberOfWorkers": 100,
        "sendDataOnlyOnChange": False,
        "security": {"type": "anonymous"},
    },
    "dataMapping": [
        # Telemetry: every key as double; the payload's "ts" (ms, read time) is used as the timestamp (the
        # converter's default when no "tsField" is given), so readings buffered during an outage keep their time.
        mapping("dlms/+/telemetry", [], [{"type": "double", "key": k, "value": "${%s}" % k} for k in KEYS]),
        # Attributes published after each (re)association; keys missing from a payload are skipped.
        mapping("dlms/+/attributes",
                [{"type": "string", "key": k, "value": "${%s}" % k} for k in ATTRIBUTES]
                + [{"type": "string", "key": "unit_" + k, "value": "${unit_%s}" % k} for k in KEYS], []),
        # Reachability as seen by the bridge ("online" / "offline"), as a client attribute "status".
        mapping("dlms/+/status", [{"type": "string", "key": "status", "value": "${status}"}], []),
    ],
    "requestsMapping": {
        # The same change as a device connect / disconnect through the gateway API, on topics of their own: the
        # connector picks a request handler by topic alone (docs/operations.md, "Device status in ThingsBoard").
        "connectRequests": [{"topicFilter": "dlms/+/connect", "deviceInfo": DEVICE_INFO}],
        "disconnectRequests": [{"topicFilter": "dlms/+/disconnect", "deviceInfo": DEVICE_INFO}],
        "attributeRequests": [],
        "attributeUpdates": [],
        "serverSideRpc": [],
    },
}

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config", "mqtt.json")
with open(out, "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
print("wrote tb-gateway/config/mqtt.json")
