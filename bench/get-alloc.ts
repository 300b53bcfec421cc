// Bytes the client allocates per GET-normal on one association (HDLC and wrapper), by allocation site: every
// allocation on the hot path is CPU (allocation, initialisation, scavenges) and, in the bridge, more garbage per
// poll. The real DlmsClient over TCP to the simulator in another process; V8's sampling heap profiler counts every
// sampled allocation. Run with `node --no-turbo-inlining` to see inlined callees as their own sites.
// Run: make build && node --no-turbo-inlining --import tsx bench/get-alloc.ts   (env: GETS=20000 TOP=20)
import { parseObis } from "../bridge/src/dlms/cosem/obis.js";
import { newClient } from "./get-cpu.js";
import { CLI, freePort, type ProfileNode, sampleAllocations, start, stop, waitForPort } from "./lib.js";

const GETS = Number(process.env.GETS ?? 20_000);
const TOP = Number(process.env.TOP ?? 20);

async function bytesPerGet(kind: "hdlc" | "wrapper", port: number, gets: number): Promise<{ perGet: number; sites: string[] }> {
  const client = await newClient(port, { kind, clientAddress: 16, serverAddress: { logical: 1 } });
  const voltage = { classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 };
  for (let i = 0; i < 5000; i++) await client.get(voltage); // warm-up: optimized code, as in a long-running bridge
  const head = await sampleAllocations(async () => {
    for (let i = 0; i < gets; i++) await client.get(voltage);
  }, 512);
  await client.release();
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, caller: string) => {
    const f = node.callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url.replace(/^.*\/(bridge\/src|node_modules)\//, "")}`;
    if (node.selfSize > 0) {
      const key = `${name} <- ${caller}`;
      bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
      total += node.selfSize;
    }
    for (const child of node.children) walk(child, name);
  };
  walk(head, "");
  const sites = [...bySite]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([k, v]) => `${(v / gets).toFixed(0).padStart(6)} B  ${k}`);
  return { perGet: Math.round(total / gets), sites };
}

/** Bytes allocated per GET-normal, HDLC and wrapper, with the top allocation sites (make bench uses the totals). */
export async function runGetAlloc(gets = GETS): Promise<Record<"hdlc" | "wrapper", { perGet: number; sites: string[] }>> {
  const [hdlcPort, wrapperPort] = [await freePort(), await freePort()];
  const sim = start("node", [CLI, "sim", "--port", String(hdlcPort), "--wrapper-port", String(wrapperPort), "--log-level", "warn"]);
  try {
    await Promise.all([waitForPort(hdlcPort), waitForPort(wrapperPort)]);
    return { hdlc: await bytesPerGet("hdlc", hdlcPort, gets), wrapper: await bytesPerGet("wrapper", wrapperPort, gets) };
  } finally {
    await stop(sim);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await runGetAlloc();
  for (const kind of ["hdlc", "wrapper"] as const) {
    console.log(`${kind}: ${result[kind].perGet} bytes allocated per GET-normal (${GETS} GETs)\n${result[kind].sites.join("\n")}`);
  }
  process.exit(0);
}
