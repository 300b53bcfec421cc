// `dlms-bridge verify`: the architecture check (see src/verify/checks.ts). Exit status = number of failed checks.
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { formatResults, run, runChecks } from "../verify/checks.js";

const USAGE = `usage: dlms-bridge verify [--bridge-url http://localhost:9464] [--mqtt-url mqtt://localhost:1884]
       [--no-compose] [--gateway-log FILE] [--since-minutes 10] [--outbox-sample-seconds 5]
Checks the running stack: compose services healthy, Mosquitto on 1884, bridge ready, every meter read within its last
3 intervals, outbox not growing, the gateway's log (its statistics reports: telemetry acknowledged by ThingsBoard; no
"code 7" disconnects while connected), no ThingsBoard token in the bridge's environment. Prints ✔/✘ per check, or
"skipped: <why>" when a check has no evidence; the exit status is the number of failed checks.`;

/** `docker compose` (v2) when this is the repository and the plugin runs; docker-compose v1 cannot read our file. */
async function composeCommand(): Promise<string[] | undefined> {
  if (!existsSync("docker-compose.yml")) return undefined;
  if ((await run(["docker", "compose", "version"])).code === 0) return ["docker", "compose"];
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "bridge-url": { type: "string", default: process.env.BRIDGE_URL ?? "http://localhost:9464" },
      "mqtt-url": { type: "string", default: process.env.VERIFY_MQTT_URL ?? "mqtt://localhost:1884" },
      "no-compose": { type: "boolean", default: false },
      "gateway-log": { type: "string" },
      "since-minutes": { type: "string", default: "10" },
      "outbox-sample-seconds": { type: "string", default: "5" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const compose = values["no-compose"] ? undefined : await composeCommand();
  const results = await runChecks({
    bridgeUrl: values["bridge-url"]!.replace(/\/$/, ""),
    mqttUrl: values["mqtt-url"]!,
    compose: compose !== undefined,
    composeCommand: compose ?? [],
    gatewayLogFile: values["gateway-log"],
    sinceMinutes: Number(values["since-minutes"]),
    outboxSampleMs: Number(values["outbox-sample-seconds"]) * 1000,
    env: process.env,
  });
  console.log(formatResults(results));
  const failed = results.filter((r) => !r.ok).length;
  console.log(failed ? `${failed} check(s) failed` : "all checks passed");
  return failed;
}
