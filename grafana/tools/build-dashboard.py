#!/usr/bin/env python3
"""Generates grafana/dashboards/dlms-bridge.json (committed). Re-run after editing: python3 grafana/tools/build-dashboard.py
Only metric names from docs/contracts.md; bridge/test/stack/grafana.test.ts checks them against the bridge's /metrics."""
import json
import os

DS = {"type": "prometheus", "uid": "dlms-prometheus"}  # fixed uid: grafana/provisioning/datasources/prometheus.yml
M = 'meter=~"$meter"'
panels = []
next_id = 1


def panel(kind, title, grid, targets, **extra):
    global next_id
    p = {"id": next_id, "type": kind, "title": title, "datasource": DS, "gridPos": grid, "targets": []}
    for i, t in enumerate(targets):
        expr, legend = (t, "") if isinstance(t, str) else t
        tgt = {"refId": chr(ord("A") + i), "datasource": DS, "expr": expr, "legendFormat": legend}
        if kind == "table":
            tgt.update({"instant": True, "range": False, "format": "table"})
        p["targets"].append(tgt)
    p.update(extra)
    next_id += 1
    panels.append(p)
    return p


def row(title, y):
    global next_id
    panels.append({"id": next_id, "type": "row", "title": title, "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
    next_id += 1


def ts_defaults(unit, min0=False, stack=False):
    d = {"unit": unit, "custom": {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never",
                                  "stacking": {"mode": "normal" if stack else "none", "group": "A"}}}
    if min0:
        d["min"] = 0
    return {"defaults": d, "overrides": []}


def stat_defaults(unit, steps, mappings=None):
    return {"defaults": {"unit": unit, "mappings": mappings or [],
                         "thresholds": {"mode": "absolute", "steps": steps}, "color": {"mode": "thresholds"}},
            "overrides": []}


GREEN, RED, ORANGE = "green", "red", "orange"

# ---- overview ------------------------------------------------------------------------------------------------------
row("Overview", 0)
panel("stat", "MQTT connected", {"h": 4, "w": 4, "x": 0, "y": 1}, ["dlms_bridge_mqtt_connected"],
      fieldConfig=stat_defaults("none", [{"color": RED, "value": None}, {"color": GREEN, "value": 1}], [
          {"type": "value", "options": {"0": {"text": "disconnected", "color": RED},
                                        "1": {"text": "connected", "color": GREEN}}}]),
      options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "background", "graphMode": "none", "textMode": "auto"})
panel("stat", "Meters up", {"h": 4, "w": 4, "x": 4, "y": 1},
      [("sum(dlms_bridge_meter_up) or vector(0)", "up"), ("count(dlms_bridge_meter_up) or vector(0)", "configured")],
      fieldConfig=stat_defaults("none", [{"color": GREEN, "value": None}]),
      options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "value", "graphMode": "none", "textMode": "value_and_name"})
panel("stat", "Outbox pending", {"h": 4, "w": 4, "x": 8, "y": 1}, ["dlms_bridge_outbox_pending"],
      fieldConfig=stat_defaults("short", [{"color": GREEN, "value": None}, {"color": ORANGE, "value": 100},
                                          {"color": RED, "value": 10000}]),
      options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "value", "graphMode": "area", "textMode": "auto"})
panel("stat", "Outbox oldest reading", {"h": 4, "w": 4, "x": 12, "y": 1}, ["dlms_bridge_outbox_oldest_age_seconds"],
      fieldConfig=stat_defaults("s", [{"color": GREEN, "value": None}, {"color": ORANGE, "value": 60},
                                      {"color": RED, "value": 600}]),
      options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "value", "graphMode": "area", "textMode": "auto"})
panel("stat", "Outbox dropped (total)", {"h": 4, "w": 4, "x": 16, "y": 1}, ["dlms_bridge_outbox_dropped_total"],
      fieldConfig=stat_defaults("short", [{"color": GREEN, "value": None}, {"color": RED, "value": 1}]),
      options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "value", "graphMode": "none", "textMode": "auto"})
panel("stat", "Bridge version", {"h": 4, "w": 4, "x": 20, "y": 1},
      [("dlms_bridge_build_info", "{{version}} (node {{node_version}})")],
      fieldConfig=stat_defaults("none", [{"color": "blue", "value": None}]),
      options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": "none", "graphMode": "none", "textMode": "name"})

table = panel("table", "Meters", {"h": 8, "w": 24, "x": 0, "y": 5}, [
    f"dlms_bridge_meter_up{{{M}}}",
    f"time() - dlms_bridge_meter_last_success_timestamp_seconds{{{M}}}",
    f"dlms_bridge_meter_breaker_state{{{M}}}",
    f"dlms_bridge_meter_consecutive_failures{{{M}}}",
    f"sum by (meter) (increase(dlms_bridge_meter_reads_total{{{M}, result=\"ok\"}}[1h]))",
    f"sum by (meter) (increase(dlms_bridge_meter_reads_total{{{M}, result!=\"ok\"}}[1h]))",
])
table["transformations"] = [
    {"id": "merge", "options": {}},
    {"id": "organize", "options": {
        "excludeByName": {"Time": True, "__name__": True, "job": True, "instance": True, "service": True},
        "indexByName": {"meter": 0, "Value #A": 1, "Value #B": 2, "Value #C": 3, "Value #D": 4, "Value #E": 5,
                        "Value #F": 6},
        "renameByName": {"meter": "Meter", "Value #A": "Up", "Value #B": "Last good read (age)",
                         "Value #C": "Breaker", "Value #D": "Consecutive failures", "Value #E": "OK reads (1 h)",
                         "Value #F": "Failed reads (1 h)"}}},
]
table["fieldConfig"] = {
    "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}},
    "overrides": [
        {"matcher": {"id": "byName", "options": "Up"}, "properties": [
            {"id": "mappings", "value": [{"type": "value", "options": {
                "0": {"text": "DOWN", "color": RED}, "1": {"text": "up", "color": GREEN}}}]},
            {"id": "custom.cellOptions", "value": {"type": "color-background"}}]},
        {"matcher": {"id": "byName", "options": "Last good read (age)"}, "properties": [
            {"id": "unit", "value": "s"}, {"id": "decimals", "value": 0},
            {"id": "thresholds", "value": {"mode": "absolute", "steps": [
                {"color": GREEN, "value": None}, {"color": ORANGE, "value": 60}, {"color": RED, "value": 300}]}},
            {"id": "custom.cellOptions", "value": {"type": "color-text"}}]},
        {"matcher": {"id": "byName", "options": "Breaker"}, "properties": [
            {"id": "mappings", "value": [{"type": "value", "options": {
                "0": {"text": "closed", "color": GREEN}, "1": {"text": "half-open", "color": ORANGE},
                "2": {"text": "OPEN", "color": RED}}}]},
            {"id": "custom.cellOptions", "value": {"type": "color-text"}}]},
        {"matcher": {"id": "byName", "options": "Consecutive failures"}, "properties": [
            {"id": "thresholds", "value": {"mode": "absolute", "steps": [
                {"color": GREEN, "value": None}, {"color": ORANGE, "value": 1}, {"color": RED, "value": 5}]}},
            {"id": "custom.cellOptions", "value": {"type": "color-text"}}]},
    ],
}
table["options"] = {"showHeader": True, "sortBy": [{"displayName": "Meter", "desc": False}]}

# ---- reads -----------------------------------------------------------------------------------------------------------
row("Reads", 13)
panel("timeseries", "Reads per second by result", {"h": 8, "w": 12, "x": 0, "y": 14},
      [(f"sum by (result) (rate(dlms_bridge_meter_reads_total{{{M}}}[$__rate_interval]))", "{{result}}")],
      fieldConfig=ts_defaults("reqps", min0=True, stack=True))
panel("timeseries", "Read duration: all meters p50 / p95 / p99, slowest selected meters (last poll)",
      {"h": 8, "w": 12, "x": 12, "y": 14}, [
    ("histogram_quantile(0.5, sum by (le) (rate(dlms_bridge_read_duration_seconds_bucket[$__rate_interval])))",
     "all meters p50"),
    ("histogram_quantile(0.95, sum by (le) (rate(dlms_bridge_read_duration_seconds_bucket[$__rate_interval])))",
     "all meters p95"),
    ("histogram_quantile(0.99, sum by (le) (rate(dlms_bridge_read_duration_seconds_bucket[$__rate_interval])))",
     "all meters p99"),
    (f"topk(5, dlms_bridge_meter_read_duration_seconds{{{M}}})", "{{meter}} last poll"),
], fieldConfig=ts_defaults("s", min0=True))
panel("timeseries", "Associations per minute by result", {"h": 7, "w": 8, "x": 0, "y": 22},
      [(f"sum by (meter, result) (rate(dlms_bridge_meter_connects_total{{{M}}}[$__rate_interval])) * 60",
        "{{meter}} {{result}}")], fieldConfig=ts_defaults("short", min0=True))
panel("timeseries", "Register errors per minute", {"h": 7, "w": 8, "x": 8, "y": 22},
      [(f"sum by (meter, key, reason) (rate(dlms_bridge_register_errors_total{{{M}}}[$__rate_interval])) * 60",
        "{{meter}} {{key}} {{reason}}")], fieldConfig=ts_defaults("short", min0=True))
panel("timeseries", "Frames discarded per minute / watchdog restarts", {"h": 7, "w": 8, "x": 16, "y": 22}, [
    (f"sum by (meter, reason) (rate(dlms_bridge_frames_discarded_total{{{M}}}[$__rate_interval])) * 60",
     "{{meter}} discarded: {{reason}}"),
    (f"sum by (meter) (increase(dlms_bridge_watchdog_restarts_total{{{M}}}[$__rate_interval]))",
     "{{meter}} watchdog restarts"),
], fieldConfig=ts_defaults("short", min0=True))

# ---- delivery ------------------------------------------------------------------------------------------------------
row("Delivery (outbox -> Mosquitto)", 29)
panel("timeseries", "Outbox pending and oldest age", {"h": 8, "w": 12, "x": 0, "y": 30}, [
    ("dlms_bridge_outbox_pending", "pending readings"),
    ("dlms_bridge_outbox_oldest_age_seconds", "oldest age (s)"),
], fieldConfig={"defaults": {"custom": {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}, "min": 0},
                "overrides": [{"matcher": {"id": "byName", "options": "oldest age (s)"},
                               "properties": [{"id": "unit", "value": "s"},
                                              {"id": "custom.axisPlacement", "value": "right"}]}]})
panel("timeseries", "MQTT connected / publishes per second", {"h": 8, "w": 12, "x": 12, "y": 30}, [
    ("dlms_bridge_mqtt_connected", "connected"),
    ("sum by (result) (rate(dlms_bridge_mqtt_publishes_total[$__rate_interval]))", "publishes {{result}}"),
], fieldConfig={"defaults": {"custom": {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}, "min": 0},
                "overrides": [{"matcher": {"id": "byName", "options": "connected"},
                               "properties": [{"id": "custom.lineInterpolation", "value": "stepAfter"},
                                              {"id": "max", "value": 1}]}]})
panel("timeseries", "Link traffic (bytes/s, frames/s)", {"h": 7, "w": 24, "x": 0, "y": 38}, [
    (f"sum by (meter, direction) (rate(dlms_bridge_frame_bytes_total{{{M}}}[$__rate_interval]))",
     "{{meter}} {{direction}}"),
    (f"sum by (meter, direction) (rate(dlms_bridge_frames_total{{{M}}}[$__rate_interval]))",
     "{{meter}} {{direction}} frames/s"),
], fieldConfig={**ts_defaults("Bps", min0=True), "overrides": [
    {"matcher": {"id": "byRegexp", "options": ".*frames/s$"},
     "properties": [{"id": "unit", "value": "short"}, {"id": "custom.axisPlacement", "value": "right"}]}]})

# ---- electrical values -------------------------------------------------------------------------------------------------
row("Electrical values", 45)
for i, (key, title, unit) in enumerate([
    ("voltage", "Voltage", "volt"), ("current", "Current", "amp"), ("frequency", "Frequency", "hertz"),
    ("active_power", "Active power", "watt"), ("active_energy", "Active energy (import)", "watth"),
]):
    w = 8 if i < 3 else 12
    x = (i * 8) if i < 3 else (i - 3) * 12
    y = 46 if i < 3 else 54
    panel("timeseries", title, {"h": 8, "w": w, "x": x, "y": y},
          [(f"dlms_bridge_meter_value{{{M}, key=\"{key}\"}}", "{{meter}}")],
          fieldConfig=ts_defaults(unit))

# ---- load profiles (backfill) ----------------------------------------------------------------------------------------
row("Load profiles (backfill)", 62)
panel("timeseries", "Profile rows backfilled per minute", {"h": 8, "w": 8, "x": 0, "y": 63},
      [(f"sum by (meter, profile) (rate(dlms_bridge_profile_rows_total{{{M}}}[5m])) * 60", "{{meter}} {{profile}}")],
      fieldConfig=ts_defaults("short", min0=True))
panel("timeseries", "Backfill lag (meter clock - last row delivered)", {"h": 8, "w": 8, "x": 8, "y": 63},
      [(f"dlms_bridge_profile_backfill_lag_seconds{{{M}}}", "{{meter}} {{profile}}")],
      fieldConfig=ts_defaults("s", min0=True))
panel("timeseries", "Backfill run duration p95 / meter clock drift", {"h": 8, "w": 8, "x": 16, "y": 63}, [
    (f"histogram_quantile(0.95, sum by (le, meter) (rate(dlms_bridge_profile_backfill_duration_seconds_bucket{{{M}}}[15m])))",
     "{{meter}} run p95"),
    (f"dlms_bridge_meter_clock_drift_seconds{{{M}}}", "{{meter}} clock drift"),
], fieldConfig=ts_defaults("s"))

dashboard = {
    "uid": "dlms-bridge",
    "title": "DLMS bridge",
    "description": "DLMS/COSEM meters read by dlms-bridge: availability, reads, delivery to MQTT, electrical values.",
    "tags": ["dlms", "thingsboard", "mqtt"],
    "timezone": "browser",
    "editable": True,
    "graphTooltip": 1,
    "refresh": "15s",
    "schemaVersion": 39,
    "version": 1,
    "time": {"from": "now-3h", "to": "now"},
    "annotations": {"list": []},
    "templating": {"list": [{
        "name": "meter", "label": "Meter", "type": "query", "datasource": DS,
        "query": {"query": "label_values(dlms_bridge_meter_up, meter)", "refId": "meters"},
        "definition": "label_values(dlms_bridge_meter_up, meter)",
        "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "sort": 1,
    }]},
    "panels": panels,
}
out = os.path.join(os.path.dirname(__file__), "..", "dashboards", "dlms-bridge.json")
with open(out, "w") as f:
    json.dump(dashboard, f, indent=2)
    f.write("\n")
print(f"wrote {os.path.normpath(out)}: {len(panels)} panels")
