// Issue 8 §1: a reply that never ends must end the request with an error that says so, quickly and with bounded
// memory: a bound on the bytes of one reply (block transfer, HDLC segmentation, wrapper) and a deadline for the
// whole request that the blocks do not restart. Real TCP against the hostile meter of test/helpers.
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_MAX_REPLY_BYTES, DlmsClient } from "../../src/client/client.js";
import { ReplyTooLargeError, RequestDeadlineError, TimeoutError } from "../../src/client/errors.js";
import type { DlmsClientOptions } from "../../src/client/types.js";
import type { Apdu } from "../../src/dlms/apdu/types.js";
import { encodeData } from "../../src/dlms/axdr/index.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { createMemoryPair } from "../../src/transport/memory.js";
import { TcpTransport } from "../../src/transport/tcp.js";
import { type HostileMeter, type HostileMeterOptions, startHostileMeter } from "../helpers/hostile-meter.js";
import { key, ScriptedMeter } from "./scripted-meter.js";

const ENERGY = { classId: 3, instanceId: parseObis("1.0.1.8.0.255"), attributeId: 2 };

const meters: HostileMeter[] = [];
const clients: DlmsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const m of meters.splice(0)) await m.close();
});

async function hostile(options: HostileMeterOptions): Promise<HostileMeter> {
  const meter = await startHostileMeter(options);
  meters.push(meter);
  return meter;
}

function tcpClient(port: number, opts: Partial<Omit<DlmsClientOptions, "transport">> = {}): DlmsClient {
  const c = new DlmsClient({
    transport: new TcpTransport({ host: "127.0.0.1", port, connectTimeoutMs: 2000 }),
    link: { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } },
    auth: { mechanism: "none" },
    timeoutMs: 5000,
    ...opts,
  });
  clients.push(c);
  return c;
}

describe("bounded replies over TCP", () => {
  it("an endless block transfer ends with 'reply larger than N bytes' and drops the association", async () => {
    const meter = await hostile({ modes: ["endless-blocks"], blockSize: 1000 });
    const c = tcpClient(meter.port);
    await c.connect();
    const error = await c.get(ENERGY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyTooLargeError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `^reply to GET 1\\.0\\.1\\.8\\.0\\.255 class 3 attr 2 larger than ${DEFAULT_MAX_REPLY_BYTES} bytes: \\d+ bytes in 263 block\\(s\\)`,
      ),
    );
    expect(c.connected).toBe(false);
    // The meter was stopped right after the bound: about 263 blocks of 1000 bytes, not an unbounded stream.
    expect(meter.bytesSent()).toBeLessThan(2 * DEFAULT_MAX_REPLY_BYTES);
  });

  it("an endless HDLC segmentation ends with 'reply larger than N bytes', not a timeout", async () => {
    const meter = await hostile({ modes: ["endless-segmentation"] });
    // Generous step timeout: the bound, one round trip per segment, must be what ends it even on a loaded machine.
    const c = tcpClient(meter.port, { maxReplyBytes: 16 * 1024, timeoutMs: 20_000 });
    await c.connect();
    const error = await c.get(ENERGY).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(TimeoutError);
    expect(error).toBeInstanceOf(ReplyTooLargeError);
    expect((error as Error).message).toMatch(
      /^reply to GET 1\.0\.1\.8\.0\.255 class 3 attr 2 larger than 16384 bytes \(HDLC message larger than 16387 bytes: \d+ bytes in \d+ segment\(s\)/,
    );
    expect(c.connected).toBe(false);
    expect(meter.bytesSent()).toBeLessThan(2 * 16 * 1024);
  });

  it("max_reply is honoured: a smaller bound stops the transfer after a few blocks", async () => {
    const meter = await hostile({ modes: ["endless-blocks"], blockSize: 1000 });
    const c = tcpClient(meter.port, { maxReplyBytes: 4096 });
    await c.connect();
    const error = await c.get(ENERGY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyTooLargeError);
    expect((error as Error).message).toMatch(/larger than 4096 bytes: 5000 bytes in 5 block\(s\)/);
  });

  it("the request deadline is not restarted by each block: a slow endless transfer ends when it passes", async () => {
    // Each block comes well within the per-step timeout, so only a deadline over the whole request can end it.
    const meter = await hostile({ modes: ["endless-blocks"], blockSize: 10, delayMs: 50 });
    const c = tcpClient(meter.port, { timeoutMs: 1000, requestDeadlineMs: 1500 });
    await c.connect();
    const started = Date.now();
    const error = await c.get(ENERGY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestDeadlineError);
    expect((error as Error).message).toMatch(
      /^request deadline of 1\.5 s passed for GET 1\.0\.1\.8\.0\.255 class 3 attr 2 after \d+ block\(s\) \(\d+ bytes\)/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(c.connected).toBe(false);
  });

  it("a wrapper PDU longer than the bound is refused as too large", async () => {
    const [clientEnd, meterEnd] = createMemoryPair();
    const big = new Uint8Array(3000).fill(7);
    new ScriptedMeter(meterEnd, {
      kind: "wrapper",
      values: { [key(3, "1.0.1.8.0.255", 2)]: { type: "octet-string", value: big } },
    });
    const c = new DlmsClient({
      transport: clientEnd,
      link: { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } },
      auth: { mechanism: "none" },
      timeoutMs: 2000,
      maxReplyBytes: 2048,
    });
    clients.push(c);
    await c.connect();
    const error = await c.get(ENERGY).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyTooLargeError);
    expect((error as Error).message).toMatch(
      /larger than 2048 bytes \(wrapper length 30\d\d exceeds the maximum 2048\)/,
    );
    expect(c.connected).toBe(false);
  });

  it("a large reply within the bound is still read whole (block transfer and segmentation)", async () => {
    const [clientEnd, meterEnd] = createMemoryPair();
    const big = Uint8Array.from({ length: 20_000 }, (_, i) => i & 0xff);
    new ScriptedMeter(meterEnd, {
      maxPduSize: 512,
      conformance: ["get", "block-transfer-with-get-or-read"],
      values: { [key(3, "1.0.1.8.0.255", 2)]: { type: "octet-string", value: big } },
      script: blockTransfer(400),
    });
    const c = new DlmsClient({
      transport: clientEnd,
      link: { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } },
      auth: { mechanism: "none" },
      timeoutMs: 2000,
      maxReplyBytes: 32 * 1024,
    });
    clients.push(c);
    await c.connect();
    expect(await c.get(ENERGY)).toEqual({ type: "octet-string", value: big });
  });
});

/** Script answering a GET with its encoded value cut into blocks of `size` bytes. */
function blockTransfer(size: number) {
  let raw: Uint8Array = new Uint8Array(0);
  return (request: Apdu, meter: ScriptedMeter) => {
    if (request.tag !== "get-request" || request.kind === "with-list") return undefined;
    let n: number;
    if (request.kind === "normal") {
      const answer = meter.answer(request.attribute);
      if (!answer.ok) return undefined;
      raw = encodeData(answer.data);
      n = 1;
    } else n = request.blockNumber + 1;
    const part = raw.subarray((n - 1) * size, n * size);
    return [
      {
        tag: "get-response" as const,
        kind: "with-datablock" as const,
        invoke: request.invoke,
        lastBlock: n * size >= raw.length,
        blockNumber: n,
        result: { ok: true as const, raw: part },
      },
    ];
  };
}
