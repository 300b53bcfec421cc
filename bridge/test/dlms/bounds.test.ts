// Size bounds of the sans-IO core (issue 8 §1): HDLC reassembly reports an oversized message as soon as it
// crosses the bound (not at its last segment, which a hostile meter never sends), and the A-XDR decoder caps the
// values one reply may expand into.
import { describe, expect, it } from "vitest";
import { decodeData, MAX_VALUES } from "../../src/dlms/axdr/index.js";
import { DecodeError, SizeLimitError } from "../../src/dlms/errors.js";
import { encodeClientAddress, encodeServerAddress } from "../../src/dlms/hdlc/address.js";
import { iControl, uControl } from "../../src/dlms/hdlc/control.js";
import { encodeFrame } from "../../src/dlms/hdlc/frame.js";
import { HdlcLink } from "../../src/dlms/hdlc/link.js";
import type { LinkEvent } from "../../src/dlms/link.js";
import { encodeWrapper, WrapperDeframer } from "../../src/dlms/wrapper/header.js";

const CLIENT = encodeClientAddress(16);
const SERVER = encodeServerAddress(1);

function connectedClient(maxReassembly: number): HdlcLink {
  const link = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 }, maxReassembly });
  link.connect();
  link.takeOutgoing();
  link.receiveData(encodeFrame({ dest: CLIENT, src: SERVER, control: uControl("UA", true) }));
  drain(link);
  return link;
}

function drain(link: HdlcLink): LinkEvent[] {
  const out: LinkEvent[] = [];
  for (let e = link.nextEvent(); e; e = link.nextEvent()) out.push(e);
  return out;
}

function segment(ns: number, info: Uint8Array, segmented: boolean): Uint8Array {
  return encodeFrame({ dest: CLIENT, src: SERVER, control: iControl(ns, 0, true), info, segmented });
}

describe("HDLC reassembly bound", () => {
  it("reports the overflow at the segment that crosses the bound, then keeps nothing of that message", () => {
    const link = connectedClient(500);
    const first = new Uint8Array(100).fill(1);
    first.set([0xe6, 0xe7, 0x00]);
    let overflowAt = -1;
    for (let i = 0; i < 20; i++) {
      link.receiveData(segment(i & 7, i === 0 ? first : new Uint8Array(100).fill(2), true));
      const errors = drain(link).flatMap((e) => (e.type === "discarded" ? [e.error] : []));
      if (errors.length > 0 && overflowAt < 0) {
        overflowAt = i;
        expect(errors[0]).toBeInstanceOf(SizeLimitError);
        expect(errors[0]!.message).toBe("HDLC message larger than 500 bytes: 600 bytes in 6 segment(s) so far");
      } else expect(errors).toEqual([]);
    }
    expect(overflowAt).toBe(5);
    // The last segment ends the oversized message without delivering anything; the next message comes through.
    link.receiveData(segment(20 & 7, new Uint8Array(10), false));
    expect(drain(link).filter((e) => e.type === "apdu" || e.type === "discarded")).toEqual([]);
    link.receiveData(segment(21 & 7, Uint8Array.of(0xe6, 0xe7, 0x00, 0xc4, 0x01, 0xc1, 0x00, 0x11, 0x05), false));
    const apdus = drain(link).flatMap((e) => (e.type === "apdu" ? [Array.from(e.apdu)] : []));
    expect(apdus).toEqual([[0xc4, 0x01, 0xc1, 0x00, 0x11, 0x05]]);
  });
});

describe("A-XDR value budget", () => {
  it("refuses a compact-array that would expand past MAX_VALUES values", () => {
    // structure of 100 null-data fields and one unsigned: 1 content byte per 101 values.
    const fields = [0x02, 100 + 1, ...new Array(100).fill(0x00), 0x11];
    const elements = Math.ceil(MAX_VALUES / 101) + 10;
    const contents = new Array(elements).fill(0x2a);
    const bytes = Uint8Array.from([
      0x13,
      ...fields,
      0x83,
      elements >> 16,
      (elements >> 8) & 0xff,
      elements & 0xff,
      ...contents,
    ]);
    const error = (() => {
      try {
        decodeData(bytes);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).code).toBe("too-large");
    expect((error as Error).message).toContain(`more than ${MAX_VALUES} values`);
  });

  it("counts nested arrays against one budget, and accepts data within it", () => {
    const n = MAX_VALUES + 1;
    const over = new Uint8Array(5 + n);
    over.set([0x01, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff]); // array of n null-data
    expect(() => decodeData(over)).toThrow(/more than 262144 values/);
    const ok = over.slice(0, 5 + MAX_VALUES);
    ok.set([0x01, 0x83, MAX_VALUES >> 16, (MAX_VALUES >> 8) & 0xff, MAX_VALUES & 0xff]);
    const data = decodeData(ok);
    expect(data.type === "array" && data.value.length).toBe(MAX_VALUES);
  });
});

describe("wrapper deframer", () => {
  it("a PDU arriving one byte at a time comes out whole and once", () => {
    const pdu = encodeWrapper(
      1,
      16,
      Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff),
    );
    const d = new WrapperDeframer();
    const got: number[] = [];
    for (const byte of pdu) {
      d.push(Uint8Array.of(byte));
      for (let r = d.next(); r; r = d.next()) if (!("error" in r)) got.push(r.frame.payload.length);
    }
    expect(got).toEqual([5000]);
  });
});
