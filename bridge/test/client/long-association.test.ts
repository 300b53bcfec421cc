// The failure that killed the system we replace: a home-made reader cut frames at the next 0x7E, and the session
// went "zombie" once an invoke-id, N(S)/N(R) or FCS byte took that value. 2,000 GETs on ONE association, over real
// TCP against the simulator, must see zero discarded frames on either side and never reconnect.
import { afterEach, describe, expect, it } from "vitest";
import { DlmsClient } from "../../src/client/client.js";
import type { LinkSettings } from "../../src/client/types.js";
import { toHex } from "../../src/dlms/codec/hex.js";
import { parseObis } from "../../src/dlms/cosem/obis.js";
import { decodeFrame } from "../../src/dlms/hdlc/frame.js";
import { type RunningSimulator, startSimulator } from "../../src/sim/server.js";
import { TcpTransport } from "../../src/transport/tcp.js";

const GETS = 2000;
let sim: RunningSimulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

describe(`${GETS} consecutive GETs on one association`, () => {
  it.each(["hdlc", "wrapper"] as const)(
    "%s: no framing error, no reconnect, values keep coming",
    async (transport) => {
      sim = await startSimulator({ host: "127.0.0.1", port: 0, transport });
      const link: LinkSettings =
        transport === "hdlc"
          ? { kind: "hdlc", clientAddress: 16, serverAddress: { logical: 1 } }
          : { kind: "wrapper", clientAddress: 16, serverAddress: { logical: 1 } };
      const discarded: string[] = [];
      const txFrames: Uint8Array[] = [];
      const rxFrames: Uint8Array[] = [];
      const client = new DlmsClient({
        transport: new TcpTransport({ host: "127.0.0.1", port: sim.ports[0]!, connectTimeoutMs: 2000 }),
        link,
        auth: { mechanism: "none" },
        timeoutMs: 5000,
        onDiscarded: (e) => discarded.push(e.message),
        onFrame: (direction, bytes) => (direction === "tx" ? txFrames : rxFrames).push(bytes),
      });
      await client.connect();
      const objects = ["1.0.32.7.0.255", "1.0.31.7.0.255", "1.0.1.8.0.255", "0.0.42.0.0.255", "0.0.1.0.0.255"];
      let energyBefore = -1n;
      for (let i = 0; i < GETS; i++) {
        const obis = objects[i % objects.length]!;
        const data = await client.get({
          classId: obis.startsWith("0.0.42") ? 1 : obis.startsWith("0.0.1.") ? 8 : 3,
          instanceId: parseObis(obis),
          attributeId: 2,
        });
        if (obis === "1.0.1.8.0.255") {
          const energy = BigInt((data as { value: number | bigint }).value);
          expect(energy).toBeGreaterThanOrEqual(energyBefore); // monotonic, and a real value each time
          energyBefore = energy;
        }
      }
      expect(discarded).toEqual([]);
      expect(client.discardedResponses).toBe(0);
      const stats = sim.meters[0]!.stats;
      expect(stats).toMatchObject({ connections: 1, associations: 1, discarded: 0 });
      expect(stats.requests).toBeGreaterThanOrEqual(GETS);
      // The run really exercised the bytes that broke the old reader: 0x7E inside frames, and every invoke id.
      if (transport === "hdlc") {
        const all = [...txFrames, ...rxFrames];
        const inner7e = all.filter((f) => f.subarray(1, f.length - 1).includes(0x7e)).length;
        expect(inner7e).toBeGreaterThan(0);
        const sendSeq = new Set(
          txFrames
            .map((f) => decodeFrame(f))
            .filter((f) => f.type === "I")
            .map((f) => f.ns),
        );
        expect([...sendSeq].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      }
      const invokeBytes = new Set(
        txFrames
          .map((f) => toHex(f))
          .filter((h) => h.includes("C0 01"))
          .map((h) => h.split("C0 01 ")[1]?.slice(0, 2)),
      );
      expect(invokeBytes.size).toBe(16); // invoke-id-and-priority cycled through all 16 ids
      await client.release();
    },
    120_000,
  );
});
