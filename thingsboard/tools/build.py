#!/usr/bin/env python3
"""Generates the ThingsBoard import files (committed):
  thingsboard/device-profile-dlms-meter.json  Profiles -> Device profiles -> "+" -> Import device profile
  thingsboard/dashboard-dlms-meters.json      Dashboards -> "+" -> Import dashboard
Re-run after editing: python3 thingsboard/tools/build.py. Keys must match tb-gateway/config/mqtt.json
(bridge/test/stack/thingsboard.test.ts checks that)."""
import json
import os
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
NS = uuid.UUID("6f1c1a52-3c55-4f0e-9d5e-0d1a5b1e7c11")
PROFILE = "DLMS meter"  # = deviceProfileExpression in tb-gateway/config/mqtt.json


def uid(name):
    return str(uuid.uuid5(NS, name))


# key, label, unit, decimals, colour
KEYS = [
    ("voltage", "Voltage", "V", 1, "#2196f3"),
    ("current", "Current", "A", 2, "#4caf50"),
    ("frequency", "Frequency", "Hz", 2, "#9c27b0"),
    ("active_power", "Active power", "W", 0, "#ff9800"),
    ("active_energy", "Active energy", "Wh", 0, "#f44336"),
]

# ---- device profile ------------------------------------------------------------------------------------------------


def numeric(op, v):
    return {"type": "NUMERIC", "operation": op, "value": {"defaultValue": v, "userValue": None, "dynamicValue": None}}


def ts_key(k):
    return {"type": "TIME_SERIES", "key": k}


voltage_alarm = {
    "id": uid("alarm-voltage"),
    "alarmType": "Voltage out of range",
    "createRules": {"MAJOR": {
        "condition": {"condition": [{"key": ts_key("voltage"), "valueType": "NUMERIC", "value": None,
                                     "predicate": {"type": "COMPLEX", "operation": "OR",
                                                   "predicates": [numeric("LESS", 207.0), numeric("GREATER", 253.0)]}}],
                      "spec": {"type": "SIMPLE"}},
        "schedule": None, "alarmDetails": "Voltage ${voltage} V outside 230 V +/-10 %", "dashboardId": None}},
    "clearRule": {
        "condition": {"condition": [{"key": ts_key("voltage"), "valueType": "NUMERIC", "value": None,
                                     "predicate": {"type": "COMPLEX", "operation": "AND",
                                                   "predicates": [numeric("GREATER_OR_EQUAL", 207.0),
                                                                  numeric("LESS_OR_EQUAL", 253.0)]}}],
                      "spec": {"type": "SIMPLE"}},
        "schedule": None, "alarmDetails": None, "dashboardId": None},
    "propagate": False, "propagateToOwner": False, "propagateToTenant": False, "propagateRelationTypes": None,
}
frequency_alarm = json.loads(json.dumps(voltage_alarm).replace("voltage", "frequency"))
frequency_alarm.update({"id": uid("alarm-frequency"), "alarmType": "Frequency out of range"})
frequency_alarm["createRules"]["MAJOR"]["condition"]["condition"][0]["predicate"]["predicates"] = [
    numeric("LESS", 49.5), numeric("GREATER", 50.5)]
frequency_alarm["createRules"]["MAJOR"]["alarmDetails"] = "Frequency ${frequency} Hz outside 50 Hz +/-0.5 Hz"
frequency_alarm["clearRule"]["condition"]["condition"][0]["predicate"]["predicates"] = [
    numeric("GREATER_OR_EQUAL", 49.5), numeric("LESS_OR_EQUAL", 50.5)]

profile = {
    "name": PROFILE,
    "description": "Electricity meter read over DLMS/COSEM by dlms-bridge and delivered by the ThingsBoard gateway "
                   "(MQTT connector, tb-gateway/config/mqtt.json). Telemetry: voltage [V], current [A], frequency [Hz], "
                   "active_power [W], active_energy [Wh]. Attributes: serial_number, logical_device_name, firmware, "
                   "transport, unit_<key>, status (online/offline as seen by the bridge).",
    "type": "DEFAULT",
    "transportType": "DEFAULT",
    "provisionType": "DISABLED",
    "image": None,
    "defaultQueueName": None,
    "default": False,
    "profileData": {
        "configuration": {"type": "DEFAULT"},
        "transportConfiguration": {"type": "DEFAULT"},
        "provisionConfiguration": {"type": "DISABLED", "provisionDeviceSecret": None},
        "alarms": [voltage_alarm, frequency_alarm],
    },
    "defaultRuleChainId": None,
    "defaultDashboardId": None,
    "defaultEdgeRuleChainId": None,
    "firmwareId": None,
    "softwareId": None,
}

# ---- dashboard -----------------------------------------------------------------------------------------------------
ALIAS = uid("alias-all-meters")
alias = {ALIAS: {"id": ALIAS, "alias": "DLMS meters",
                 "filter": {"type": "deviceType", "resolveMultiple": True, "deviceTypes": [PROFILE],
                            "deviceNameFilter": ""}}}


def data_key(name, ktype, label, units="", decimals=None, color="#607d8b"):
    k = {"name": name, "type": ktype, "label": label, "color": color, "settings": {}, "_hash": 0.1}
    if units:
        k["units"] = units
    if decimals is not None:
        k["decimals"] = decimals
    return k


widgets = {}
layout = {}


def add(name, widget, sx, sy, row, col):
    wid = uid("widget-" + name)
    widget["id"] = wid
    widget["sizeX"], widget["sizeY"], widget["row"], widget["col"] = sx, sy, row, col
    widgets[wid] = widget
    layout[wid] = {"sizeX": sx, "sizeY": sy, "row": row, "col": col}


table_keys = [data_key("status", "attribute", "Bridge status"), data_key("active", "attribute", "Active")]
table_keys += [data_key(k, "timeseries", label, unit, dec, color) for k, label, unit, dec, color in KEYS]
table_keys += [data_key("serial_number", "attribute", "Serial"), data_key("firmware", "attribute", "Firmware")]
add("table", {
    "typeFullFqn": "system.cards.entities_table",
    "type": "latest",
    "config": {
        "title": "Meters (latest values)",
        "showTitle": True,
        "datasources": [{"type": "entity", "name": "", "entityAliasId": ALIAS, "filterId": None,
                         "dataKeys": table_keys}],
        "timewindow": {"realtime": {"timewindowMs": 60000}},
        "settings": {"entitiesTitle": "DLMS meters", "enableSearch": True, "displayPagination": True,
                     "defaultPageSize": 10, "displayEntityName": True, "entityNameColumnTitle": "Meter",
                     "displayEntityType": False, "defaultSortOrder": "entityName"},
        "dropShadow": True, "enableFullscreen": True, "units": "", "decimals": None,
    },
}, 24, 7, 0, 0)

row = 7
for i, (k, label, unit, dec, color) in enumerate(KEYS):
    col = 0 if i % 2 == 0 else 12
    width = 12 if i < 4 else 24
    add("chart-" + k, {
        "typeFullFqn": "system.time_series_chart",
        "type": "timeseries",
        "config": {
            "title": f"{label} [{unit}]",
            "showTitle": True,
            "datasources": [{"type": "entity", "name": "", "entityAliasId": ALIAS, "filterId": None,
                             "dataKeys": [data_key(k, "timeseries", "${entityName}", unit, dec, color)]}],
            "useDashboardTimewindow": True,
            "showLegend": True,
            "units": unit,
            "decimals": dec,
            "dropShadow": True,
            "enableFullscreen": True,
            "settings": {"dataZoom": True, "stack": False},
        },
    }, width, 7, row, col)
    if i % 2 == 1 or i == len(KEYS) - 1:
        row += 7

dashboard = {
    "title": "DLMS meters",
    "name": "DLMS meters",
    "image": None,
    "mobileHide": False,
    "mobileOrder": None,
    "configuration": {
        "description": "Real-time V, A, Hz, W and Wh of every device of profile 'DLMS meter' (dlms-bridge via the "
                       "ThingsBoard gateway).",
        "widgets": widgets,
        "states": {"default": {"name": "DLMS meters", "root": True, "layouts": {"main": {
            "widgets": layout,
            "gridSettings": {"columns": 24, "margin": 10, "outerMargin": True, "backgroundColor": "#eeeeee",
                             "layoutType": "default", "autoFillHeight": False}}}}},
        "entityAliases": alias,
        "filters": {},
        "timewindow": {"displayValue": "", "hideInterval": False, "hideAggregation": False,
                       "selectedTab": 0, "realtime": {"realtimeType": 0, "timewindowMs": 3600000, "interval": 10000},
                       "aggregation": {"type": "NONE", "limit": 50000}},
        "settings": {"stateControllerId": "entity", "showTitle": True, "showDashboardsSelect": True,
                     "showEntitiesSelect": True, "showDashboardTimewindow": True, "showDashboardExport": True,
                     "toolbarAlwaysOpen": True},
    },
}

for fname, obj in [("device-profile-dlms-meter.json", profile), ("dashboard-dlms-meters.json", dashboard)]:
    with open(os.path.join(OUT, fname), "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    print("wrote thingsboard/" + fname)
