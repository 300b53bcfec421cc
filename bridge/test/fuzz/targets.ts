// One fuzz target per decoder that takes bytes from a meter (or text from an operator). "Typed" means: the
// decoder refused the input with one of the stack's error classes (bridge/src/dlms/errors.ts: DlmsError and its
// subclasses DecodeError, SizeLimitError, RemoteProtocolError, ...); the client-level target may also answer with a
// ClientError (client/errors.ts: ProtocolViolationError, ReplyTooLargeError...), the meter URL parser with a
// ConfigError, and the .env loader must not throw at all (it returns its list of problems). Anything else
// (RangeError, TypeError, a stack overflow) is a crash. Each target also checks what it produces: a frame the
// deframer returns must decode, links only surface DlmsErrors as "discarded" events, etc.

import { readFileSync } from "node:fs";
import { parse as parseDotenv } from "dotenv";
import { ClientError, ProtocolViolationError } from "../../src/client/errors.js";
import { type GetExchange, getNormal, getWithList } from "../../src/client/get-service.js";
import { ConfigError } from "../../src/config/errors.js";
import { loadConfig } from "../../src/config/load.js";
import { parseMeterUrl } from "../../src/config/meter-url.js";
import { decodeApdu, decodeApduLenient, describeApdu, encodeApdu } from "../../src/dlms/apdu/index.js";
import type { Apdu, GetResponse } from "../../src/dlms/apdu/types.js";
import { decodeData, encodeData } from "../../src/dlms/axdr/index.js";
import { dataToJson } from "../../src/dlms/cosem/display.js";
import { ProfileBufferDecoder } from "../../src/dlms/cosem/profile-stream.js";
import { DlmsError } from "../../src/dlms/errors.js";
import { encodeClientAddress, encodeServerAddress } from "../../src/dlms/hdlc/address.js";
import { uControl } from "../../src/dlms/hdlc/control.js";
import { HdlcDeframer } from "../../src/dlms/hdlc/deframer.js";
import { decodeFrame, encodeFrame } from "../../src/dlms/hdlc/frame.js";
import { HdlcLink } from "../../src/dlms/hdlc/link.js";
import type { DataLink } from "../../src/dlms/link.js";
import { unwrap, wrap } from "../../src/dlms/security/glo.js";
import { decodeWrapper, WrapperDeframer } from "../../src/dlms/wrapper/header.js";
import { WrapperLink } from "../../src/dlms/wrapper/link.js";
import { loadVectorApdus } from "../dlms/apdu/vector-apdus.js";
import { loadVectorFrames, vectorFiles } from "../dlms/vectors.js";
import type { FuzzTarget } from "./engine.js";

const isDlms = (e: unknown) => e instanceof DlmsError;

/** Thrown by a target's own checks: always a failure. */
class InvariantError extends Error {
  override name = "InvariantError";
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new InvariantError(message);
}

// ---- seeds ---------------------------------------------------------------------------------------------------

let cache: { hdlc: Uint8Array[]; wrapper: Uint8Array[]; apdus: Uint8Array[]; data: Uint8Array[] } | undefined;

function vectors() {
  if (cache) return cache;
  const hdlc = vectorFiles(/hdlc.*\.txt$/).flatMap((f) => loadVectorFrames(f).map((v) => v.bytes));
  const wrapper = vectorFiles(/wrapper.*\.txt$/).flatMap((f) => loadVectorFrames(f).map((v) => v.bytes));
  const apdus = vectorFiles(/\.txt$/).flatMap((f) => loadVectorApdus(f).map((a) => a.apdu));
  // A-XDR values: the data of every GET response (and the parameters of every request) in the captures.
  const data: Uint8Array[] = [];
  for (const bytes of apdus) {
    try {
      const apdu = decodeApdu(bytes);
      if (apdu.tag === "get-response" && apdu.kind === "normal" && apdu.result.ok)
        data.push(encodeData(apdu.result.data));
      if (apdu.tag === "get-response" && apdu.kind === "with-list") {
        for (const r of apdu.results) if (r.ok) data.push(encodeData(r.data));
      }
    } catch {
      // not every captured APDU is one our codec handles (e.g. ciphered): skip as a seed
    }
  }
  // Plus structures the captures lack: compact arrays, nesting, strings.
  data.push(
    Uint8Array.of(0x13, 0x02, 0x02, 0x11, 0x09, 0x06, 0x01, 0x02, 0x03, 0x41, 0x42, 0x43),
    Uint8Array.of(0x01, 0x02, 0x02, 0x02, 0x09, 0x02, 0x01, 0x02, 0x06, 0, 0, 0, 1, 0x02, 0x02, 0x0a, 0x01, 0x41, 0x00),
    Uint8Array.of(0x04, 0x0a, 0xff, 0xc0),
    Uint8Array.of(0x19, 0x07, 0xea, 0x0c, 0x02, 0x03, 0x0e, 0x00, 0x00, 0xff, 0x80, 0x00, 0x00),
  );
  cache = { hdlc, wrapper, apdus, data };
  return cache;
}

/** Cuts `input` into chunks at sizes taken from its own bytes, so one input also fuzzes the chunking. */
function chunks(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  let k = 0;
  while (at < input.length) {
    const size = 1 + ((input[k++ % input.length]! * 7) % 97);
    out.push(input.subarray(at, at + size));
    at += size;
  }
  return out;
}

// ---- link layer ----------------------------------------------------------------------------------------------

const CLIENT = encodeClientAddress(16);
const SERVER = encodeServerAddress(1);

function drainLink(link: DataLink): void {
  for (let e = link.nextEvent(); e; e = link.nextEvent()) {
    if (e.type === "discarded") check(e.error instanceof DlmsError, `discarded a non-DlmsError: ${e.error}`);
  }
  for (const frame of link.takeOutgoing()) check(frame.length > 0, "empty outgoing frame");
}

const hdlcDeframer: FuzzTarget = {
  name: "hdlc-deframer",
  seeds: () => vectors().hdlc,
  isTyped: isDlms,
  run(input) {
    const d = new HdlcDeframer({ maxBuffered: 4096 });
    let results = 0;
    for (const chunk of chunks(input)) {
      d.push(chunk);
      for (let r = d.next(); r; r = d.next()) {
        if ("error" in r) check(r.error instanceof DlmsError, "deframer error is not a DlmsError");
        else decodeFrame(r.bytes); // a frame handed out must decode
        check(++results <= input.length + 2, "deframer returns results without consuming bytes");
      }
      check(d.buffered <= 4096, `deframer holds ${d.buffered} bytes over its bound`);
    }
  },
};

const hdlcLink: FuzzTarget = {
  name: "hdlc-link",
  seeds: () => vectors().hdlc,
  isTyped: isDlms,
  run(input) {
    // Both roles, the client connected (so I-frames, segmentation and RR are reachable), a small reassembly bound.
    const client = new HdlcLink({
      role: "client",
      clientAddress: 16,
      serverAddress: { logical: 1 },
      maxReassembly: 2048,
    });
    client.connect();
    client.receiveData(encodeFrame({ dest: CLIENT, src: SERVER, control: uControl("UA", true) }));
    drainLink(client);
    const server = new HdlcLink({
      role: "server",
      clientAddress: 16,
      serverAddress: { logical: 1 },
      maxReassembly: 2048,
    });
    for (const chunk of chunks(input)) {
      client.receiveData(chunk);
      drainLink(client);
      server.receiveData(chunk);
      drainLink(server);
    }
  },
};

const wrapper: FuzzTarget = {
  name: "wrapper",
  seeds: () => vectors().wrapper,
  isTyped: isDlms,
  run(input) {
    try {
      const pdu = decodeWrapper(input, 1024);
      check(pdu.payload.length <= 1024, "decodeWrapper returned a payload over the bound");
    } catch (error) {
      if (!isDlms(error)) throw error;
    }
    const d = new WrapperDeframer({ maxPduLength: 1024 });
    let held = 0;
    for (const chunk of chunks(input)) {
      d.push(chunk);
      held += chunk.length;
      for (let r = d.next(); r; r = d.next()) {
        if ("error" in r) check(r.error instanceof DlmsError, "wrapper deframer error is not a DlmsError");
        held -= r.bytes.length;
      }
      check(held < 8 + 1024, `wrapper deframer holds ${held} bytes`);
    }
    const link = new WrapperLink({ role: "client", clientWPort: 16, serverWPort: 1, maxPduLength: 1024 });
    link.connect();
    link.receiveData(input);
    drainLink(link);
  },
};

// ---- A-XDR and APDUs -----------------------------------------------------------------------------------------

const axdr: FuzzTarget = {
  name: "axdr",
  seeds: () => vectors().data,
  isTyped: isDlms,
  run(input) {
    const data = decodeData(input);
    // What decodes must re-encode to the same bytes, and display without throwing.
    const again = encodeData(data);
    check(Buffer.compare(Buffer.from(again), Buffer.from(input)) === 0 || sameData(again, data), "re-encoding differs");
    dataToJson(data);
  },
};

/** Some inputs have two encodings (e.g. a long-form length): then the re-encoded value must decode the same. */
function sameData(bytes: Uint8Array, data: unknown): boolean {
  return JSON.stringify(decodeData(bytes), jsonSafe) === JSON.stringify(data, jsonSafe);
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (typeof value === "number" && Number.isNaN(value)) return "NaN";
  return value;
}

const apdu: FuzzTarget = {
  name: "apdu",
  seeds: () => vectors().apdus,
  isTyped: isDlms,
  run(input) {
    let decoded: Apdu;
    try {
      decoded = decodeApduLenient(input).apdu;
    } catch (error) {
      if (!isDlms(error)) throw error;
      decodeApdu(input); // the strict decoder must refuse it too, with a typed error
      throw new InvariantError("the strict decoder accepted what the lenient one refused");
    }
    describeApdu(decoded); // traces describe every PDU the decoder hands out
    encodeApdu(decoded);
  },
};

// ---- block-transfer reassembly (client GET procedures fed with decoded replies) ----------------------------

/** The input as a sequence of replies: [length (1 byte)][APDU bytes], repeated. */
function replies(input: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < input.length && out.length < 64) {
    const n = input[at]!;
    out.push(input.subarray(at + 1, at + 1 + n));
    at += 1 + n;
  }
  return out;
}

function blockSeeds(): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  const invoke = { invokeId: 1, confirmed: true, highPriority: true };
  for (const value of vectors().data.slice(0, 40)) {
    const parts: Uint8Array[] = [];
    const size = 1 + (value.length % 13);
    const blocks = Math.ceil(value.length / size);
    for (let i = 0; i < blocks; i++) {
      const response: GetResponse = {
        tag: "get-response",
        kind: "with-datablock",
        invoke,
        lastBlock: i === blocks - 1,
        blockNumber: i + 1,
        result: { ok: true, raw: value.subarray(i * size, (i + 1) * size) },
      };
      const bytes = encodeApdu(response);
      if (bytes.length > 255) break;
      parts.push(Uint8Array.of(bytes.length), bytes);
    }
    seeds.push(Buffer.concat(parts));
  }
  return seeds;
}

const blockTransfer: FuzzTarget = {
  name: "block-transfer",
  seeds: blockSeeds,
  isTyped: (e) => e instanceof DlmsError || e instanceof ClientError,
  maxLength: 8192,
  run(input): Promise<void> {
    const queue = replies(input);
    // Each request is answered with the next reply, decoded as the client would (invoke ids are not checked here:
    // the client matches them before the GET procedure sees a response).
    const exchange: GetExchange = {
      begin: (what) => ({ what, deadlineAt: Number.POSITIVE_INFINITY, blocks: 0, bytes: 0 }),
      maxReplyBytes: 4096,
      nextInvoke: () => ({ invokeId: 1, confirmed: true, highPriority: true }),
      warn: () => undefined,
      request: async () => {
        const next = queue.shift();
        if (!next) throw new ProtocolViolationError("get", "no more replies");
        const decoded = decodeApdu(next);
        if (decoded.tag !== "get-response") throw new ProtocolViolationError("get", `got ${decoded.tag}`);
        return decoded;
      },
    };
    const attribute = { classId: 7, instanceId: Uint8Array.of(1, 0, 99, 1, 0, 255), attributeId: 2 };
    // Async only in its waits, which the fake exchange answers at once: no timers, no I/O.
    return input.length % 2 === 0
      ? getNormal(exchange, attribute).then(() => undefined)
      : getWithList(exchange, [attribute, attribute]).then(() => undefined);
  },
};

// ---- profile buffer stream -----------------------------------------------------------------------------------

const profileStream: FuzzTarget = {
  name: "profile-stream",
  seeds: () => [
    Uint8Array.of(0x01, 0x02, 0x02, 0x02, 0x06, 0, 0, 0, 1, 0x12, 0, 5, 0x02, 0x02, 0x06, 0, 0, 0, 2, 0x12, 0, 6),
    Uint8Array.of(0x01, 0x00),
    Uint8Array.of(0x01, 0x81, 0x01, 0x02, 0x01, 0x11, 0x07),
    ...vectors().data.filter((d) => d[0] === 0x01),
  ],
  isTyped: isDlms,
  run(input) {
    const decoder = new ProfileBufferDecoder(input.length % 3 === 0 ? undefined : 2);
    let rows = 0;
    for (const chunk of chunks(input)) rows += decoder.push(chunk).length;
    check(rows === decoder.decoded, "rows handed out differ from the decoder's count");
    decoder.finish();
  },
};

// ---- ciphered APDUs (HLS-GMAC associations) ------------------------------------------------------------------

const PEER = {
  systemTitle: Uint8Array.of(0x4d, 0x4d, 0x4d, 0x00, 0x00, 0xbc, 0x61, 0x4e),
  keys: { ek: new Uint8Array(16).fill(0x11), ak: new Uint8Array(16).fill(0x22) },
};

function cipheredSeeds(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const policies = ["enc", "auth", "auth-enc"] as const;
  vectors().apdus.forEach((apdu, i) => {
    for (const kind of ["glo", "general-glo"] as const) {
      try {
        out.push(wrap({ kind, policy: policies[i % 3]!, ...PEER, invocationCounter: i + 1, apdu }));
      } catch {
        // AARQ/AARE/RLRQ have no glo form: only general-glo wraps them
      }
    }
  });
  return out;
}

const cipheredApdu: FuzzTarget = {
  name: "ciphered-apdu",
  seeds: cipheredSeeds,
  isTyped: isDlms,
  run(input) {
    // Envelope, security header, GCM (an "enc"-only policy lets mutated ciphertext through as garbage plaintext),
    // then the plaintext APDU decoder.
    const opened = unwrap(input, PEER);
    const apdu = decodeApduLenient(opened.plaintext).apdu;
    describeApdu(apdu);
  },
};

// ---- .env (operator input) -----------------------------------------------------------------------------------

const envExample = readFileSync(new URL("../../../.env.example", import.meta.url), "utf8");

const envFile: FuzzTarget = {
  name: "env-config",
  seeds: () => [
    Uint8Array.from(Buffer.from(envExample, "utf8")),
    Uint8Array.from(
      Buffer.from("MQTT_URL=mqtt://localhost:1884\nMETER_A=hdlc://h:1?interval=1s\nHTTP_PORT=0\n", "utf8"),
    ),
  ],
  // loadConfig reports problems as a list; it must never throw at all.
  isTyped: () => false,
  maxLength: 8192,
  run(input) {
    const env = parseDotenv(Buffer.from(input));
    const result = loadConfig(env);
    if (!result.ok) check(result.errors.length > 0, "refused without saying why");
    else
      check(
        result.config.meters.every((m) => m.port >= 1 && m.intervalMs > 0),
        "impossible meter accepted",
      );
  },
};

// ---- meter URL (operator input) ------------------------------------------------------------------------------

const latin1 = new TextDecoder("latin1");
const URL_SEEDS = [
  "hdlc://10.0.0.5:4059",
  "wrapper://meter.local:4060?client=1&server=17&interval=2m&timeout=500ms&registers=three-phase",
  "hdlc://192.0.2.10:4001?client=1&server=1&physical=1234&auth=low&password=Secret%26x&interval=15s&timeout=6s&registers=voltage:1.1.32.7.0.255,current:1.1.31.7.0.255",
  "hdlc://[::1]:4059?address_size=4&physical=16383&max_reply=64k&deadline=30s",
  "hdlc://h:1?registers=default,power_factor:1.0.13.7.0.255:3:2",
];

const meterUrl: FuzzTarget = {
  name: "meter-url",
  seeds: () => URL_SEEDS.map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0))),
  isTyped: (e) => e instanceof ConfigError,
  maxLength: 1024,
  run(input) {
    const url = latin1.decode(input);
    const meter = parseMeterUrl("fuzz", url, {
      METER_fuzz_PASSWORD: input.length % 5 === 0 ? "pw" : undefined,
    } as Record<string, string>);
    check(meter.port >= 1 && meter.port <= 65535, `port ${meter.port} accepted`);
    check(meter.intervalMs > 0 && meter.timeoutMs > 0, "non-positive duration accepted");
  },
};

export const TARGETS: readonly FuzzTarget[] = [
  hdlcDeframer,
  hdlcLink,
  wrapper,
  axdr,
  apdu,
  blockTransfer,
  profileStream,
  cipheredApdu,
  meterUrl,
  envFile,
];
