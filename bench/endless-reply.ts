// Client memory against a meter whose block transfer never ends (issue 8 §1): RSS growth while the GET runs and
// after it ended, and how it ended. CLIENT_SRC picks the client code (default bridge/src; point it at an export of
// an older commit to measure "before"). Each run is a fresh process; the meter runs in another one.
// Run: node --import tsx bench/endless-reply.ts   (env: RUNS=3 BENCH_SECONDS=30 BLOCK=4000 CLIENT_SRC=...)
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { resolve } from "node:path";
import { createInterface } from "node:readline";

const RUNS = Number(process.env.RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30);
const BLOCK = Number(process.env.BLOCK ?? 4000);
const SRC = resolve(process.env.CLIENT_SRC ?? new URL("../bridge/src", import.meta.url).pathname);
const MB = 2 ** 20;

interface Result {
  outcome: string;
  seconds: number;
  rssStartMb: number;
  rssPeakMb: number;
  rssAfterMb: number;
}

async function startMeter(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/hostile-server.ts", "endless-blocks", String(BLOCK)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((done) => createInterface({ input: child.stdout! }).once("line", done));
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

async function oneRun(port: number): Promise<Result> {
  const { DlmsClient } = await import(`${SRC}/client/client.ts`);
  const { TcpTransport } = await import(`${SRC}/transport/tcp.ts`);
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const client = new DlmsClient({
    transport: new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 5000 }),
    link: { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 }, maxInfo: 2000 },
    auth: { mechanism: "none" },
    timeoutMs: 5000,
  });
  await client.connect();
  gc();
  const rssStart = process.memoryUsage().rss;
  let peak = rssStart;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const started = performance.now();
  let outcome = `still collecting after ${SECONDS} s (then closed)`;
  const attribute = { classId: 3, instanceId: Uint8Array.of(1, 0, 1, 8, 0, 255), attributeId: 2 };
  await Promise.race([
    client.get(attribute).then(
      () => {
        outcome = "returned a value";
      },
      (error: Error) => {
        outcome = `${error.name}: ${error.message}`;
      },
    ),
    new Promise((done) => setTimeout(done, SECONDS * 1000)),
  ]);
  const seconds = (performance.now() - started) / 1000;
  const finalOutcome = outcome; // client.close() below rejects a GET still running: that is not how it ended
  peak = Math.max(peak, process.memoryUsage().rss);
  clearInterval(sampler);
  client.close();
  await new Promise((done) => setTimeout(done, 500));
  gc();
  await new Promise((done) => setTimeout(done, 500));
  gc();
  return {
    outcome: finalOutcome,
    seconds,
    rssStartMb: rssStart / MB,
    rssPeakMb: peak / MB,
    rssAfterMb: process.memoryUsage().rss / MB,
  };
}

if (process.argv[2] === "--one") {
  const result = await oneRun(Number(process.argv[3]));
  console.log(JSON.stringify(result));
  process.exit(0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const meter = await startMeter();
const results: Result[] = [];
for (let i = 0; i < RUNS; i++) {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", "bench/endless-reply.ts", "--one", String(meter.port)],
    { env: { ...process.env, CLIENT_SRC: SRC }, encoding: "utf8" },
  );
  const result = JSON.parse(out.trim().split("\n").at(-1)!) as Result;
  results.push(result);
  console.log(
    `run ${i + 1}: ${result.seconds.toFixed(1)} s, RSS ${result.rssStartMb.toFixed(0)} -> peak ${result.rssPeakMb.toFixed(0)} -> after ${result.rssAfterMb.toFixed(0)} MB; ${result.outcome.slice(0, 140)}`,
  );
}
meter.child.kill();
const growth = (pick: (r: Result) => number) => results.map((r) => pick(r) - r.rssStartMb);
const fmt = (xs: number[], digits = 0) =>
  `${median(xs).toFixed(digits)} (${xs.map((x) => x.toFixed(digits)).join(" / ")})`;
console.log(`client code: ${SRC}`);
console.log(`duration s           ${fmt(results.map((r) => r.seconds), 1)}`);
console.log(`RSS growth, peak MB  ${fmt(growth((r) => r.rssPeakMb))}`);
console.log(`RSS growth, after MB ${fmt(growth((r) => r.rssAfterMb))}`);
