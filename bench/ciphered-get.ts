// CPU per GET, plain vs ciphered (HLS-GMAC, security suite 0): the client and the simulator in this process over
// TCP loopback, one association each, GETs of one register back to back. CPU time (process.cpuUsage, user+system)
// rather than wall time: the machine is shared and its wall-clock figures are noise. Also the sans-IO layer alone
// (wrap + unwrap of one GET request/response pair) in µs.
// Run: node --import tsx bench/ciphered-get.ts   (env GETS, RUNS; default 2000, 3)
import { DlmsClient } from "../bridge/src/client/client.js";
import type { AuthSettings, LinkSettings } from "../bridge/src/client/types.js";
import { fromHex } from "../bridge/src/dlms/codec/hex.js";
import { parseObis } from "../bridge/src/dlms/cosem/obis.js";
import { CipherSession } from "../bridge/src/dlms/security/index.js";
import { startSimulator } from "../bridge/src/sim/server.js";
import { TcpTransport } from "../bridge/src/transport/tcp.js";

const GETS = Number(process.env.GETS ?? 2000);
const RUNS = Number(process.env.RUNS ?? 3);
const AK = fromHex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");
const EK = fromHex("B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF");
const VOLTAGE = { classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 };

type Variant = "plain" | "auth" | "enc" | "auth-enc";

async function cpuPerGet(variant: Variant): Promise<number> {
  const sim = await startSimulator({ port: 0, auth: "hls-gmac", hls: { authKey: AK, blockKey: EK } });
  try {
    let ic = 1;
    const auth: AuthSettings =
      variant === "plain"
        ? { mechanism: "none" }
        : {
            mechanism: "hls-gmac",
            policy: variant,
            systemTitle: new TextEncoder().encode("BENCHCLT"),
            keys: { ek: EK, ak: AK },
            counter: { next: () => ic++ },
          };
    const link: LinkSettings = { kind: "hdlc", clientAddress: variant === "plain" ? 16 : 1, serverAddress: { logical: 1 } };
    const client = new DlmsClient({
      transport: new TcpTransport({ host: "127.0.0.1", port: sim.ports[0]!, connectTimeoutMs: 2000 }),
      link,
      auth,
      timeoutMs: 5000,
    });
    await client.connect();
    for (let i = 0; i < 100; i++) await client.get(VOLTAGE); // warm-up
    const start = process.cpuUsage();
    for (let i = 0; i < GETS; i++) await client.get(VOLTAGE);
    const used = process.cpuUsage(start);
    await client.release();
    return (used.user + used.system) / GETS;
  } finally {
    await sim.close();
  }
}

function layerOnly(policy: Exclude<Variant, "plain">): number {
  const client = new CipherSession({ policy, ownSystemTitle: fromHex("4242424242424242"), peerSystemTitle: fromHex("5353535353535353"), keys: { ek: EK, ak: AK } });
  const server = new CipherSession({ policy, ownSystemTitle: fromHex("5353535353535353"), peerSystemTitle: fromHex("4242424242424242"), keys: { ek: EK, ak: AK } });
  const request = fromHex("C001C100030100200700FF0200");
  const response = fromHex("C401C1001209012C");
  const n = 20_000;
  const start = process.cpuUsage();
  for (let i = 1; i <= n; i++) {
    server.unprotect(client.protect(request, i));
    client.unprotect(server.protect(response, i));
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / n;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const variants: Variant[] = ["plain", "auth", "enc", "auth-enc"];
const results: Record<string, number[]> = {};
for (let run = 0; run < RUNS; run++) {
  for (const v of variants) (results[v] ??= []).push(await cpuPerGet(v));
  for (const p of ["auth", "enc", "auth-enc"] as const) (results[`layer ${p}`] ??= []).push(layerOnly(p));
}
console.log(`node ${process.version}, ${GETS} GETs per run, ${RUNS} runs; CPU µs (user+system) per GET, client + simulator in one process`);
const plain = median(results.plain!);
for (const [name, xs] of Object.entries(results)) {
  const m = median(xs);
  const ratio = name.startsWith("layer") ? "" : ` ×${(m / plain).toFixed(2)} of plain`;
  console.log(`${name.padEnd(16)} median ${m.toFixed(1)} µs${ratio}   runs ${xs.map((x) => x.toFixed(1)).join(" / ")}`);
}
