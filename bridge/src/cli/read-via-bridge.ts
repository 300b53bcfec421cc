// `read --meter ID --via-bridge [--bridge-url URL]`: the read goes through the running bridge's
// POST /api/meters/<id>/read, on the association the bridge already holds (a meter takes one association at a
// time: a direct read while the bridge polls it is refused "busy"). Same output as a direct read.
import type { ObjectRef } from "../client/object-ref.js";
import { type ObjectReadingJson, renderObjectReading } from "../client/reading-json.js";
import { type CliIo, EXIT_FAILURE, EXIT_OK } from "./args.js";

export interface BridgeReadPlan {
  /** Base URL of the bridge's HTTP listener, e.g. http://127.0.0.1:9464 */
  url: string;
  meter: string;
  /** undefined: the meter's configured registers. */
  objects?: ObjectRef[];
  deadlineMs: number;
}

/** The bridge's listener on this machine (inside the bridge container too): HTTP_PORT, default 9464. */
export function defaultBridgeUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://127.0.0.1:${env.HTTP_PORT?.trim() || "9464"}`;
}

export async function readViaBridge(plan: BridgeReadPlan, json: boolean, io: CliIo): Promise<number> {
  const endpoint = `${plan.url.replace(/\/+$/, "")}/api/meters/${encodeURIComponent(plan.meter)}/read`;
  const body = {
    ...(plan.objects ? { obis: plan.objects.map((o) => `${o.classId}/${o.obis}/${o.attributeId}`) } : {}),
    deadlineMs: plan.deadlineMs,
  };
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(plan.deadlineMs + 5_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    return fail(
      io,
      json,
      `cannot reach the bridge at ${plan.url} (${why}): is it running? Without it, read the meter directly (drop --via-bridge)`,
    );
  }
  const text = await response.text();
  let answer: Record<string, unknown>;
  try {
    answer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return fail(
      io,
      json,
      `the bridge answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`,
    );
  }
  if (!response.ok) {
    const lastError = typeof answer.lastError === "string" ? `; meter's last error: ${answer.lastError}` : "";
    const meters = Array.isArray(answer.meters) ? ` (meters: ${answer.meters.join(", ")})` : "";
    return fail(
      io,
      json,
      `bridge: ${String(answer.error ?? response.statusText)}${meters}${lastError}`,
      response.status,
    );
  }
  let failed = 0;
  for (const object of (answer.objects ?? []) as ObjectReadingJson[]) {
    const line = renderObjectReading(object, json);
    if (line.ok || json) io.out(line.text);
    else io.err(line.text);
    if (!line.ok) failed++;
  }
  return failed > 0 ? EXIT_FAILURE : EXIT_OK;
}

function fail(io: CliIo, json: boolean, message: string, status?: number): number {
  if (json) io.out(JSON.stringify({ error: message, ...(status ? { status } : {}) }));
  else io.err(`error: ${message}`);
  return EXIT_FAILURE;
}
