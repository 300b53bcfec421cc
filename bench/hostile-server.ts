// The hostile meter of bridge/test/helpers as its own process (so a benchmark measures only the client's memory).
// Usage: node --import tsx bench/hostile-server.ts <mode> [blockSize]; prints {"port":N} and serves until killed.
import { type HostileMode, startHostileMeter } from "../bridge/test/helpers/hostile-meter.js";

const mode = (process.argv[2] ?? "endless-blocks") as HostileMode;
const blockSize = Number(process.argv[3] ?? 1000);
const meter = await startHostileMeter({ modes: [mode], blockSize, maxInfo: 2000 });
console.log(JSON.stringify({ port: meter.port }));
