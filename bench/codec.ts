// Nanoseconds of CPU per codec operation (sans-IO, no sockets): what one GET costs before the network, so the rest
// of a round trip's CPU is known to be sockets, promises and timers. CPU time (process.cpuUsage) over many
// iterations after a warm-up; medians of RUNS.
// Run: node --import tsx bench/codec.ts   (env: ITERATIONS=200000 RUNS=3)
import { decodeApdu, encodeApdu } from "../bridge/src/dlms/apdu/index.js";
import type { Apdu } from "../bridge/src/dlms/apdu/types.js";
import { crc16x25 } from "../bridge/src/dlms/codec/crc16.js";
import { parseObis } from "../bridge/src/dlms/cosem/obis.js";
import { encodeClientAddress, encodeServerAddress } from "../bridge/src/dlms/hdlc/address.js";
import { iControl } from "../bridge/src/dlms/hdlc/control.js";
import { decodeFrame, encodeFrame } from "../bridge/src/dlms/hdlc/frame.js";
import { HdlcLink } from "../bridge/src/dlms/hdlc/link.js";
import { WrapperLink } from "../bridge/src/dlms/wrapper/link.js";
import { machineLoad, median } from "./lib.js";

const ITERATIONS = Number(process.env.ITERATIONS ?? 200_000);
const RUNS = Number(process.env.RUNS ?? 3);

const invoke = { invokeId: 1, confirmed: true, highPriority: true };
const voltage = { classId: 3, instanceId: parseObis("1.0.32.7.0.255"), attributeId: 2 };
const five = ["1.0.32.7.0.255", "1.0.31.7.0.255", "1.0.14.7.0.255", "1.0.1.7.0.255", "1.0.1.8.0.255"].map((o) => ({
  classId: 3,
  instanceId: parseObis(o),
  attributeId: 2,
}));
const getRequest: Apdu = { tag: "get-request", kind: "normal", invoke, attribute: voltage };
const getResponse: Apdu = {
  tag: "get-response",
  kind: "normal",
  invoke,
  result: { ok: true, data: { type: "long-unsigned", value: 2304 } },
};
const listRequest: Apdu = { tag: "get-request", kind: "with-list", invoke, attributes: five };
const listResponse: Apdu = {
  tag: "get-response",
  kind: "with-list",
  invoke,
  results: five.map((_, i) => ({ ok: true, data: { type: "long-unsigned", value: 2300 + i } })),
};
const getResponseBytes = encodeApdu(getResponse);
const listResponseBytes = encodeApdu(listResponse);
const frameInput = {
  dest: encodeServerAddress(1),
  src: encodeClientAddress(16),
  control: iControl(0, 0, true),
  info: Uint8Array.of(0xe6, 0xe6, 0x00, ...encodeApdu(getRequest)),
};
const frameBytes = encodeFrame(frameInput);

/** A connected client/server HDLC pair: one GET request and its response through both links, sans IO. */
function hdlcPair() {
  const client = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } });
  const server = new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 } });
  client.connect();
  for (const f of client.takeOutgoing()) server.receiveData(f);
  for (const f of server.takeOutgoing()) client.receiveData(f);
  while (client.nextEvent() || server.nextEvent()) {}
  const request = encodeApdu(getRequest);
  return () => {
    client.sendApdu(request);
    for (const f of client.takeOutgoing()) server.receiveData(f);
    while (server.nextEvent()) {}
    server.sendApdu(getResponseBytes);
    for (const f of server.takeOutgoing()) client.receiveData(f);
    while (client.nextEvent()) {}
  };
}

function wrapperPair() {
  const client = new WrapperLink({ role: "client", clientWPort: 16, serverWPort: 1 });
  const server = new WrapperLink({ role: "server", clientWPort: 16, serverWPort: 1 });
  client.connect();
  server.connect();
  while (client.nextEvent() || server.nextEvent()) {}
  const request = encodeApdu(getRequest);
  return () => {
    client.sendApdu(request);
    for (const f of client.takeOutgoing()) server.receiveData(f);
    while (server.nextEvent()) {}
    server.sendApdu(getResponseBytes);
    for (const f of server.takeOutgoing()) client.receiveData(f);
    while (client.nextEvent()) {}
  };
}

const OPERATIONS: [string, () => unknown][] = [
  ["encode GET-Request-Normal", () => encodeApdu(getRequest)],
  ["decode GET-Response-Normal", () => decodeApdu(getResponseBytes)],
  ["encode GET-Request-With-List (5)", () => encodeApdu(listRequest)],
  ["decode GET-Response-With-List (5)", () => decodeApdu(listResponseBytes)],
  ["CRC-16/X.25 of a 25-byte frame", () => crc16x25(frameBytes, 1, frameBytes.length - 3)],
  ["encode HDLC I-frame (GET request)", () => encodeFrame(frameInput)],
  ["decode HDLC I-frame (GET request)", () => decodeFrame(frameBytes)],
  ["HDLC link pair: GET request + response, both sides", hdlcPair()],
  ["wrapper link pair: GET request + response, both sides", wrapperPair()],
];

function nsPerOp(op: () => unknown, n: number): number {
  for (let i = 0; i < Math.max(10_000, n / 10); i++) op();
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) op();
  const d = process.cpuUsage(t0);
  return ((d.user + d.system) * 1000) / n;
}

export function runCodec(runs = RUNS, iterations = ITERATIONS): { operation: string; ns: number }[] {
  return OPERATIONS.map(([operation, op]) => {
    const samples = Array.from({ length: runs }, () => nsPerOp(op, iterations));
    return { operation, ns: Math.round(median(samples)) };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const results = runCodec();
  for (const r of results) console.log(`${String(r.ns).padStart(8)} ns  ${r.operation}`);
  console.log(machineLoad());
}
