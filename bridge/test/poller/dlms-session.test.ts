// The DlmsSession factory's DISC-before-SNRM policy, observed on the wire against the simulator.

import { afterEach, describe, expect, it } from "vitest";
import { decodeFrame } from "../../src/dlms/hdlc/frame.js";
import type { MeterConfig } from "../../src/model.js";
import { createDlmsSessionFactory } from "../../src/poller/dlms-session.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { TcpTransport } from "../../src/transport/tcp.js";
import type { Transport } from "../../src/transport/types.js";

let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Records the HDLC frame type of the first frame each transport sends. */
function recordingTransports(firstFrames: string[]): (meter: MeterConfig) => Transport {
  return (meter) => {
    const tcp = new TcpTransport({ host: meter.host, port: meter.port, connectTimeoutMs: meter.timeoutMs });
    let first = true;
    return {
      open: () => tcp.open(),
      close: () => tcp.close(),
      onEvent: (handler) => tcp.onEvent(handler),
      write: (bytes) => {
        if (first) firstFrames.push(decodeFrame(bytes).type);
        first = false;
        tcp.write(bytes);
      },
    };
  };
}

describe("createDlmsSessionFactory", () => {
  it("sends DISC before SNRM only after an association that ended without a release", async () => {
    sim = await startSimulator({ count: 1, port: 0 });
    const meter: MeterConfig = {
      id: "m",
      transport: "hdlc",
      host: "127.0.0.1",
      port: sim.ports[0]!,
      clientAddress: 16,
      serverLogical: 1,
      auth: "none",
      intervalMs: 1_000,
      timeoutMs: 1_500,
      registers: [],
    };
    const firstFrames: string[] = [];
    const factory = createDlmsSessionFactory({ transport: recordingTransports(firstFrames) });

    const dropped = factory(meter, {});
    await dropped.connect();
    expect(await dropped.readAttributes()).toMatchObject({ serial_number: sim.meters[0]!.serialNumber });
    dropped.close(); // unclean: the meter may still hold the association

    const released = factory(meter, {});
    await released.connect();
    await released.keepAlive?.();
    await released.release();

    const fresh = factory(meter, {});
    await fresh.connect();
    await fresh.release();

    expect(firstFrames).toEqual(["SNRM", "DISC", "SNRM"]);
  });
});
