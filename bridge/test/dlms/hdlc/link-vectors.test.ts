// Our HdlcLink, in each role, replayed against the captured conversations: the client must write exactly the
// bytes the captured client wrote, and the server exactly what the captured server answered (where the standard
// leaves no freedom).
import { describe, expect, it } from "vitest";
import { toHex } from "../../../src/dlms/codec/hex.js";
import { decodeFrame, type HdlcFrame } from "../../../src/dlms/hdlc/frame.js";
import { HdlcLink } from "../../../src/dlms/hdlc/link.js";
import type { LinkEvent } from "../../../src/dlms/link.js";
import { loadVectorFrames, type VectorFrame } from "../vectors.js";

const CONVERSATIONS = [
  "u9n_hdlc_none.txt",
  "u9n_hdlc_low.txt",
  "u9n_hdlc_badpassword.txt",
  "u9n_hdlc_unknown_obis.txt",
  "gurux_hdlc_none.txt",
];

function drainEvents(link: HdlcLink): LinkEvent[] {
  const out: LinkEvent[] = [];
  for (let e = link.nextEvent(); e; e = link.nextEvent()) out.push(e);
  return out;
}

const apduOf = (f: HdlcFrame) => f.info.subarray(3); // after the LLC header

/** First I-frame of each APDU (segmented requests start a new APDU only after a final frame). */
function startsApdu(frames: VectorFrame[], i: number, dir: "tx" | "rx"): boolean {
  for (let j = i - 1; j >= 0; j--) {
    const prev = decodeFrame(frames[j]!.bytes);
    if (frames[j]!.dir !== dir || prev.type !== "I") continue;
    return !prev.format.segmented;
  }
  return true;
}

describe("client HdlcLink replays captured sessions byte for byte", () => {
  for (const file of CONVERSATIONS) {
    it(file, () => {
      const frames = loadVectorFrames(file);
      const first = decodeFrame(frames[0]!.bytes);
      const link = new HdlcLink({ role: "client", clientAddress: first.src[0]! >> 1, serverAddress: { logical: 1 } });
      const queued: Uint8Array[] = [];
      const apdus: string[] = [];
      const expectedApdus: string[] = [];
      frames.forEach((vf, i) => {
        const f = decodeFrame(vf.bytes);
        if (vf.dir === "tx") {
          if (f.type === "SNRM") link.connect();
          else if (f.type === "DISC") link.disconnect();
          else if (f.type === "I" && startsApdu(frames, i, "tx")) link.sendApdu(apduOf(f));
          queued.push(...link.takeOutgoing());
          expect(toHex(queued.shift() ?? new Uint8Array(0)), `${file}:${vf.line}`).toBe(toHex(vf.bytes));
        } else {
          link.receiveData(vf.bytes);
          if (f.type === "I") expectedApdus[expectedApdus.length - (startsApdu(frames, i, "rx") ? 0 : 1)] = "";
          for (const e of drainEvents(link)) {
            expect(e.type, `${file}:${vf.line}`).not.toBe("discarded");
            if (e.type === "apdu") apdus.push(toHex(e.apdu));
          }
        }
      });
      expect(queued).toEqual([]);
      expect(apdus.length).toBe(expectedApdus.length);
      const lastTx = frames.filter((f) => f.dir === "tx").at(-1)!;
      expect(link.isConnected).toBe(decodeFrame(lastTx.bytes).type !== "DISC");
    });
  }

  it("reassembles the segmented Gurux reply into the APDU the capture carries", () => {
    const frames = loadVectorFrames("gurux_hdlc_none.txt");
    const link = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } });
    link.connect();
    link.receiveData(frames[1]!.bytes);
    link.sendApdu(apduOf(decodeFrame(frames[2]!.bytes)));
    link.receiveData(frames[3]!.bytes);
    expect(drainEvents(link).map((e) => e.type)).toEqual(["frame", "connected", "frame", "apdu"]);
    link.sendApdu(apduOf(decodeFrame(frames[4]!.bytes)));
    let expected = new Uint8Array(0);
    const got: Uint8Array[] = [];
    for (let i = 5; ; i += 2) {
      const f = decodeFrame(frames[i]!.bytes);
      const part = i === 5 ? f.info.subarray(3) : f.info;
      const joined = new Uint8Array(expected.length + part.length);
      joined.set(expected);
      joined.set(part, expected.length);
      expected = joined;
      link.receiveData(frames[i]!.bytes);
      for (const e of drainEvents(link)) if (e.type === "apdu") got.push(e.apdu);
      if (!f.format.segmented) break;
    }
    expect(got).toHaveLength(1);
    expect(toHex(got[0]!)).toBe(toHex(expected));
    expect(got[0]!.length).toBeGreaterThan(400);
  });
});

describe("server HdlcLink answers captured client frames as the reference server did", () => {
  for (const file of CONVERSATIONS.filter((f) => f.startsWith("u9n"))) {
    it(file, () => {
      const frames = loadVectorFrames(file);
      const link = new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 } });
      let expectDisconnect = false;
      for (const vf of frames) {
        const f = decodeFrame(vf.bytes);
        if (vf.dir === "tx") {
          link.receiveData(vf.bytes);
          const events = drainEvents(link);
          expect(events.filter((e) => e.type === "discarded")).toEqual([]);
          const apdus = events.filter((e) => e.type === "apdu");
          if (f.type === "I") expect(apdus).toHaveLength(1);
          expectDisconnect = f.type === "DISC";
          if (expectDisconnect) expect(events.map((e) => e.type)).toContain("disconnected");
          continue;
        }
        if (f.type === "I") link.sendApdu(apduOf(f));
        const out = link.takeOutgoing();
        expect(out, `${file}:${vf.line}`).toHaveLength(1);
        if (expectDisconnect) {
          // The reference server repeats its parameters in the UA to DISC; ours sends the plain UA.
          expect(toHex(out[0]!)).toBe(
            toHex(Uint8Array.from([0x7e, 0xa0, 0x07, f.dest[0]!, 0x03, 0x73, ...fcsOf(f.dest[0]!), 0x7e])),
          );
        } else {
          expect(toHex(out[0]!), `${file}:${vf.line}`).toBe(toHex(vf.bytes));
        }
      }
    });
  }
});

function fcsOf(client: number): number[] {
  const bytes = Uint8Array.of(0xa0, 0x07, client, 0x03, 0x73);
  let crc = 0xffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x8408 : crc >>> 1;
  }
  crc = ~crc & 0xffff;
  return [crc & 0xff, crc >> 8];
}
