// Grafana and Prometheus only query metrics the bridge really exports (a scraped /metrics of createMetrics()),
// and the ThingsBoard import files only use keys the gateway delivers.
import { beforeAll, describe, expect, it } from "vitest";
import { REGISTER_SETS } from "../../src/config/register-sets.js";
import { createMetrics } from "../../src/metrics/registry.js";
import {
  attributesPayload,
  attributesTopic,
  statusPayload,
  statusTopic,
  telemetryPayload,
  telemetryTopic,
} from "../../src/publish/payloads.js";
import { type ConverterConfig, convertJson } from "../helpers/gateway-converter.js";
import { readJson, readText, readYaml, topicMatches } from "./stack-files.js";

interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ expr: string; datasource?: { uid: string } }>;
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: {
    list: Array<{ datasource?: { uid: string }; query?: { query: string } | string; definition?: string }>;
  };
}

const dashboard = readJson<Dashboard>("grafana", "dashboards", "dlms-bridge.json");
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** Names a PromQL expression refers to (functions and label names never start with dlms_bridge_). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b(dlms_bridge_[a-z0-9_]+)\b/g)].map((m) => m[1]!);
}

let exported: Set<string>;

beforeAll(async () => {
  const metrics = createMetrics({ version: "0.0.0-test" });
  // One labelled sample of a histogram, so the exposition is a real scrape, not only HELP/TYPE lines.
  metrics.readDuration.observe(0.2);
  metrics.meters.reading("sim1", "voltage", "V", 230.1);
  const text = await metrics.registry.metrics();
  exported = new Set<string>();
  for (const match of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name = "", type] = match;
    exported.add(name);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) exported.add(name + s);
    if (type === "summary") for (const s of ["_sum", "_count"]) exported.add(name + s);
  }
  for (const match of text.matchAll(/^([a-z_:][a-z0-9_:]*)[{ ]/gm)) exported.add(match[1]!);
});

describe("Grafana dashboard grafana/dashboards/dlms-bridge.json", () => {
  const provisioned = readYaml<{ datasources: Array<{ uid: string; type: string; url: string }> }>(
    "grafana",
    "provisioning",
    "datasources",
    "prometheus.yml",
  ).datasources;

  it("refers to the provisioned datasource by its fixed uid, everywhere", () => {
    expect(provisioned).toHaveLength(1);
    const uid = provisioned[0]!.uid;
    expect(uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(provisioned[0]!.url).toBe("http://prometheus:9090");
    const text = readText("grafana", "dashboards", "dlms-bridge.json");
    const uids = [...text.matchAll(/"uid": "([^"]+)"/g)].map((m) => m[1]).filter((u) => u !== dashboard.uid);
    expect(uids.length).toBeGreaterThan(10);
    expect(new Set(uids)).toEqual(new Set([uid]));
    expect(text).not.toMatch(/"datasource": "Prometheus"/); // never by name
  });

  it("only queries metrics the bridge exports", () => {
    const queries = [
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
      ...dashboard.templating.list.map((v) => (typeof v.query === "string" ? v.query : (v.query?.query ?? ""))),
    ];
    const used = new Set(queries.flatMap(metricNames));
    expect(used.size).toBeGreaterThan(10);
    const unknown = [...used].filter((name) => !exported.has(name));
    expect(unknown, `not in /metrics: ${unknown.join(", ")}`).toEqual([]);
  });

  it("has the panels the operator needs", () => {
    const titles = panels.map((p) => p.title);
    for (const title of [
      "Meters",
      "MQTT connected",
      "Outbox pending",
      "Reads per second by result",
      "Read duration: all meters p50 / p95 / p99, slowest selected meters (last poll)",
      "Outbox pending and oldest age",
      "Voltage",
      "Current",
      "Frequency",
      "Active power",
    ])
      expect(titles).toContain(title);
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join("\n");
    for (const key of ["voltage", "current", "frequency", "active_power", "active_energy"])
      expect(exprs).toContain(`dlms_bridge_meter_value{meter=~"$meter", key="${key}"}`);
    expect(exprs).toContain("histogram_quantile(0.95");
  });

  it("is provisioned from the folder compose mounts", () => {
    const provider = readYaml<{ providers: Array<{ options: { path: string } }> }>(
      "grafana",
      "provisioning",
      "dashboards",
      "provider.yml",
    );
    expect(provider.providers[0]!.options.path).toBe("/var/lib/grafana/dashboards");
    expect(readText("docker-compose.yml")).toContain("./grafana/dashboards:/var/lib/grafana/dashboards:ro");
  });
});

describe("Prometheus", () => {
  const config = readYaml<{
    scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }>;
  }>("prometheus", "prometheus.yml");

  it("scrapes the bridge on the compose network at the metrics port", () => {
    const job = config.scrape_configs.find((j) => j.job_name === "dlms-bridge");
    expect(job?.static_configs[0]?.targets).toEqual(["bridge:9464"]);
  });

  it("alert rules only use metrics the bridge exports", () => {
    const rules = readYaml<{ groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }>(
      "prometheus",
      "rules",
      "dlms-bridge.rules.yml",
    );
    const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
    expect(exprs.length).toBeGreaterThan(3);
    const unknown = exprs.flatMap(metricNames).filter((name) => !exported.has(name));
    expect(unknown).toEqual([]);
  });
});

describe("ThingsBoard import files", () => {
  const profile = readJson<{ name: string; profileData: { alarms: Array<{ alarmType: string }> } }>(
    "thingsboard",
    "device-profile-dlms-meter.json",
  );
  const tbDashboard = readJson<{
    configuration: {
      entityAliases: Record<string, { filter: { type: string; deviceTypes: string[] } }>;
      widgets: Record<
        string,
        {
          typeFullFqn: string;
          config: { datasources: Array<{ entityAliasId: string; dataKeys: Array<{ name: string; type: string }> }> };
        }
      >;
      states: { default: { layouts: { main: { widgets: Record<string, unknown> } } } };
    };
  }>("thingsboard", "dashboard-dlms-meters.json");
  // What the gateway makes of the bridge's real payloads for a meter with every key of every register set.
  const gateway = readJson<{ dataMapping: Array<{ topicFilter: string; converter: ConverterConfig }> }>(
    "tb-gateway",
    "config",
    "mqtt.json",
  );
  const allKeys = [...new Set(Object.values(REGISTER_SETS).flatMap((set) => set.map((r) => r.key)))];
  const messages: Array<[string, string]> = [
    [
      telemetryTopic("m1"),
      telemetryPayload({ meter: "m1", ts: 1, values: Object.fromEntries(allKeys.map((k) => [k, 1])) }),
    ],
    [
      attributesTopic("m1"),
      attributesPayload("m1", {
        serial_number: "1",
        logical_device_name: "x",
        firmware: "1",
        transport: "hdlc",
        ...Object.fromEntries(allKeys.map((k) => [`unit_${k}`, "V"])),
      }),
    ],
    [statusTopic("m1"), statusPayload("m1", true)],
  ];
  const converted = messages.flatMap(([topic, payload]) =>
    gateway.dataMapping
      .filter((m) => topicMatches(m.topicFilter, topic))
      .map((m) => convertJson(m.converter, JSON.parse(payload), 2)),
  );
  const delivered = {
    timeseries: new Set(converted.flatMap((c) => c.telemetry.flatMap((t) => Object.keys(t.values)))),
    // "active" is ThingsBoard's own server attribute (device activity).
    attribute: new Set([...converted.flatMap((c) => Object.keys(c.attributes)), "active"]),
  };

  it("the dashboard shows devices of the profile the gateway assigns", () => {
    const aliases = Object.values(tbDashboard.configuration.entityAliases);
    expect(aliases).toHaveLength(1);
    expect(aliases[0]!.filter).toMatchObject({ type: "deviceType", deviceTypes: [profile.name] });
    expect(profile.profileData.alarms.map((a) => a.alarmType)).toContain("Voltage out of range");
  });

  it("every widget key is delivered by the gateway, and V, A, Hz, W, Wh are all shown", () => {
    const widgets = Object.values(tbDashboard.configuration.widgets);
    const keys = widgets.flatMap((w) => w.config.datasources.flatMap((d) => d.dataKeys));
    for (const key of keys) {
      expect(delivered[key.type as "timeseries" | "attribute"]?.has(key.name), `${key.type} ${key.name}`).toBe(true);
    }
    const shown = new Set(keys.filter((k) => k.type === "timeseries").map((k) => k.name));
    for (const key of ["voltage", "current", "frequency", "active_power", "active_energy"])
      expect(shown).toContain(key);
    expect(Object.keys(tbDashboard.configuration.states.default.layouts.main.widgets).sort()).toEqual(
      Object.keys(tbDashboard.configuration.widgets).sort(),
    );
  });
});
