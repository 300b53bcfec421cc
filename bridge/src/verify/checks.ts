// The architecture check behind `dlms-bridge verify` / `make verify`: each check is independent, returns ✔ or ✘ with
// a one-line reason, and the command's exit status is the number of failures.

import { execFile } from "node:child_process";
import { connect as mqttConnect } from "mqtt";
import { analyseGatewayLog, deliveryVerdict, disconnectVerdict } from "./gateway-log.js";

export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  skipped?: boolean;
}

export interface VerifyOptions {
  bridgeUrl: string; // http://localhost:9464
  mqttUrl: string; // mqtt://localhost:1884
  compose: boolean; // docker compose available: check services and the gateway's log
  composeCommand: string[]; // ["docker", "compose"]
  gatewayLogFile?: string; // alternative to `docker compose logs tb-gateway`
  sinceMinutes: number;
  outboxSampleMs: number;
  env: NodeJS.ProcessEnv; // the bridge's environment when run inside its container
}

export function run(cmd: string[], timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd[0]!, cmd.slice(1), { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function fetchText(url: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

export async function checkComposeServices(o: VerifyOptions): Promise<CheckResult> {
  const name = "compose services running and healthy";
  const r = await run([...o.composeCommand, "ps", "--all", "--format", "json"]);
  if (r.code !== 0) return { name, ok: false, detail: `${o.composeCommand.join(" ")} ps failed: ${r.stderr.trim()}` };
  // `docker compose ps --format json` prints one JSON object per line (v2.21+) or one array (older v2).
  const text = r.stdout.trim();
  const rows: Array<{ Service?: string; State?: string; Health?: string }> = text.startsWith("[")
    ? JSON.parse(text)
    : text
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l));
  if (rows.length === 0) return { name, ok: false, detail: "no services: run `make up`" };
  // Every service `up` would start (active profiles) must have a container: a missing gateway proves nothing.
  const expected = await run([...o.composeCommand, "config", "--services"]);
  const missing =
    expected.code === 0
      ? expected.stdout
          .split("\n")
          .map((l) => l.trim())
          .filter((svc) => svc && !rows.some((r) => r.Service === svc))
      : [];
  const bad = rows.filter((s) => s.State !== "running" || (s.Health && s.Health !== "healthy"));
  const problems = [
    ...missing.map((svc) => `${svc}: no container`),
    ...bad.map((s) => `${s.Service}: ${s.State}${s.Health ? `/${s.Health}` : ""}`),
  ];
  return problems.length
    ? { name, ok: false, detail: problems.join(", ") }
    : { name, ok: true, detail: rows.map((s) => s.Service).join(", ") };
}

export function checkMosquitto(o: VerifyOptions): Promise<CheckResult> {
  const name = `Mosquitto accepting MQTT at ${o.mqttUrl}`;
  return new Promise((resolve) => {
    const client = mqttConnect(o.mqttUrl, {
      clientId: `dlms-bridge-verify-${process.pid}`,
      connectTimeout: 5000,
      reconnectPeriod: 0,
      clean: true,
    });
    const done = (r: CheckResult) => {
      client.end(true);
      resolve(r);
    };
    client.once("connect", () => done({ name, ok: true, detail: "CONNACK received" }));
    client.once("error", (e) => done({ name, ok: false, detail: e.message }));
    client.once("close", () => done({ name, ok: false, detail: "connection closed before CONNACK" }));
  });
}

export async function checkBridgeReady(o: VerifyOptions): Promise<CheckResult> {
  const name = "bridge ready (/readyz)";
  try {
    const r = await fetchText(`${o.bridgeUrl}/readyz`);
    return { name, ok: r.status === 200, detail: `${r.status} ${r.body.trim().slice(0, 200)}` };
  } catch (e) {
    return { name, ok: false, detail: `${o.bridgeUrl} unreachable: ${(e as Error).message}` };
  }
}

interface MeterStatusRow {
  id: string;
  intervalMs: number;
  lastSuccess?: number | null;
  lastError?: string | null;
}

export async function checkMetersRead(o: VerifyOptions, now = Date.now()): Promise<CheckResult[]> {
  let meters: MeterStatusRow[];
  try {
    const r = await fetchText(`${o.bridgeUrl}/api/meters`);
    meters = JSON.parse(r.body) as MeterStatusRow[];
  } catch (e) {
    return [{ name: "meters read recently", ok: false, detail: `/api/meters: ${(e as Error).message}` }];
  }
  if (meters.length === 0)
    return [{ name: "meters read recently", ok: false, detail: "no meter configured (METER_<ID> in .env)" }];
  return meters.map((m) => {
    const name = `meter ${m.id} read within its last 3 intervals`;
    if (!m.lastSuccess) return { name, ok: false, detail: `never read${m.lastError ? `: ${m.lastError}` : ""}` };
    const age = now - m.lastSuccess;
    return { name, ok: age <= 3 * m.intervalMs, detail: `last success ${(age / 1000).toFixed(1)} s ago` };
  });
}

export function metricValue(text: string, metric: string): number | undefined {
  const m = text.match(new RegExp(`^${metric}(?:\\{[^}]*\\})? ([0-9.eE+-]+|NaN)$`, "m"));
  return m ? Number(m[1]) : undefined;
}

export async function checkOutboxNotGrowing(o: VerifyOptions): Promise<CheckResult> {
  const name = "outbox not growing";
  try {
    const a = metricValue((await fetchText(`${o.bridgeUrl}/metrics`)).body, "dlms_bridge_outbox_pending");
    await new Promise((r) => setTimeout(r, o.outboxSampleMs));
    const b = metricValue((await fetchText(`${o.bridgeUrl}/metrics`)).body, "dlms_bridge_outbox_pending");
    if (a === undefined || b === undefined)
      return { name, ok: false, detail: "dlms_bridge_outbox_pending not exported" };
    return { name, ok: b <= a || b < 10, detail: `pending ${a} -> ${b} over ${o.outboxSampleMs / 1000} s` };
  } catch (e) {
    return { name, ok: false, detail: (e as Error).message };
  }
}

export async function checkGatewayLog(o: VerifyOptions): Promise<CheckResult[]> {
  let log: string;
  if (o.gatewayLogFile) {
    const { readFile } = await import("node:fs/promises");
    try {
      log = await readFile(o.gatewayLogFile, "utf8");
    } catch (e) {
      return [{ name: "gateway log readable", ok: false, detail: (e as Error).message }];
    }
  } else if (o.compose) {
    const r = await run([...o.composeCommand, "logs", "--no-color", "--since", `${o.sinceMinutes}m`, "tb-gateway"]);
    if (r.code !== 0) return [{ name: "gateway log readable", ok: false, detail: r.stderr.trim() }];
    log = r.stdout + r.stderr;
  } else {
    return [
      { name: "gateway log", ok: true, skipped: true, detail: "skipped: no docker compose and no --gateway-log" },
    ];
  }
  const analysis = analyseGatewayLog(log);
  return [
    {
      name: `gateway delivered readings to ThingsBoard (last ${o.sinceMinutes} min)`,
      ...deliveryVerdict(analysis, o.sinceMinutes),
    },
    {
      name: `gateway: zero "code 7" / unexpected disconnects (last ${o.sinceMinutes} min)`,
      ...disconnectVerdict(analysis, o.sinceMinutes),
    },
  ];
}

const TOKEN_VARIABLES = /^(TB_GW_ACCESS_TOKEN|TB_ACCESS_TOKEN|ACCESS_TOKEN|TB_GW_TOKEN)$/;

/** The bridge must never hold a ThingsBoard token (only the gateway does): otherwise two clients could share it. */
export async function checkBridgeHasNoToken(o: VerifyOptions): Promise<CheckResult> {
  const name = "bridge environment holds no ThingsBoard token";
  let names: string[];
  if (o.compose) {
    const r = await run([...o.composeCommand, "exec", "-T", "bridge", "env"]);
    if (r.code !== 0)
      return { name, ok: false, detail: `cannot read the bridge container's environment: ${r.stderr.trim()}` };
    names = r.stdout.split("\n").map((l) => l.split("=")[0]!);
  } else {
    names = Object.keys(o.env);
  }
  const found = names.filter((n) => TOKEN_VARIABLES.test(n));
  // Name the variable, never its value.
  return { name, ok: found.length === 0, detail: found.length ? `found ${found.join(", ")}` : "none" };
}

export async function runChecks(o: VerifyOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  if (o.compose) results.push(await checkComposeServices(o));
  else
    results.push({
      name: "compose services",
      ok: true,
      skipped: true,
      detail: "skipped: docker compose not available here",
    });
  results.push(await checkMosquitto(o));
  results.push(await checkBridgeReady(o));
  results.push(...(await checkMetersRead(o)));
  results.push(await checkOutboxNotGrowing(o));
  results.push(...(await checkGatewayLog(o)));
  results.push(await checkBridgeHasNoToken(o));
  return results;
}

export function formatResults(results: CheckResult[]): string {
  return results
    .map((r) => `${r.skipped ? "-" : r.ok ? "✔" : "✘"} ${r.name}${r.detail ? ` — ${r.detail}` : ""}`)
    .join("\n");
}
