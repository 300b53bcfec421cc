import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { ByteReader } from "../../../src/dlms/codec/reader.js";
import { DecodeError } from "../../../src/dlms/errors.js";
import { decodeAddress, encodeClientAddress, encodeServerAddress } from "../../../src/dlms/hdlc/address.js";
import { decodeControl, iControl, rrControl, uControl } from "../../../src/dlms/hdlc/control.js";
import { decodeFrame, describeFrame, encodeFrame } from "../../../src/dlms/hdlc/frame.js";
import { loadVectorFrames, vectorFiles } from "../vectors.js";

const CLIENT = encodeClientAddress(16);
const SERVER = encodeServerAddress(1);

describe("decodeFrame on every captured HDLC frame", () => {
  for (const file of vectorFiles(/hdlc.*\.txt$/)) {
    it(`${file}: HCS/FCS verify, addresses and control decode`, () => {
      const frames = loadVectorFrames(file);
      expect(frames.length).toBeGreaterThan(0);
      for (const { dir, bytes, line } of frames) {
        const f = decodeFrame(bytes);
        const [client, server] = dir === "tx" ? [f.src, f.dest] : [f.dest, f.src];
        expect(client.length, `line ${line}`).toBe(1);
        expect([0x21, 0x23], `line ${line}`).toContain(client[0]);
        expect(decodeAddress(new ByteReader(server)).upper, `line ${line}`).toBe(1);
        expect(f.format.length).toBe(bytes.length - 2);
        // Re-encoding the decoded fields gives the captured bytes back.
        const again = encodeFrame({
          dest: f.dest,
          src: f.src,
          control: f.control,
          info: f.info,
          segmented: f.format.segmented,
        });
        expect(toHex(again), `line ${line}`).toBe(toHex(bytes));
      }
    });
  }
});

describe("encodeFrame reproduces captured frames from first principles", () => {
  it("SNRM without parameters: 7E A0 07 03 21 93 0F 01 7E", () => {
    const snrm = encodeFrame({ dest: SERVER, src: CLIENT, control: uControl("SNRM", true) });
    expect(toHex(snrm)).toBe("7E A0 07 03 21 93 0F 01 7E");
  });

  it("DISC 7E A0 07 03 21 53 03 C7 7E", () => {
    expect(toHex(encodeFrame({ dest: SERVER, src: CLIENT, control: uControl("DISC", true) }))).toBe(
      "7E A0 07 03 21 53 03 C7 7E",
    );
  });

  it("RR with N(R)=2,3,4 as captured in the segmented Gurux read", () => {
    const rr = (nr: number) => toHex(encodeFrame({ dest: SERVER, src: CLIENT, control: rrControl(nr, true) }));
    expect(rr(2)).toBe("7E A0 07 03 21 51 11 E4 7E");
    expect(rr(3)).toBe("7E A0 07 03 21 71 13 C5 7E");
    expect(rr(4)).toBe("7E A0 07 03 21 91 1D 22 7E");
  });

  it("the GET I-frame (N(S)=3, N(R)=3) whose FCS is A1 7E", () => {
    const info = fromHex("E6 E6 00 C0 01 C2 00 01 00 00 2A 00 00 FF 02 00");
    const frame = encodeFrame({ dest: SERVER, src: CLIENT, control: iControl(3, 3, true), info });
    expect(toHex(frame)).toBe("7E A0 19 03 21 76 4F DC E6 E6 00 C0 01 C2 00 01 00 00 2A 00 00 FF 02 00 A1 7E 7E");
  });

  it("an LLC header given as infoPrefix makes the same frame as the concatenated information field", () => {
    const llc = fromHex("E6 E6 00");
    const apdu = fromHex("C0 01 C2 00 01 00 00 2A 00 00 FF 02 00");
    const frame = encodeFrame({
      dest: SERVER,
      src: CLIENT,
      control: iControl(3, 3, true),
      info: apdu,
      infoPrefix: llc,
    });
    expect(toHex(frame)).toBe("7E A0 19 03 21 76 4F DC E6 E6 00 C0 01 C2 00 01 00 00 2A 00 00 FF 02 00 A1 7E 7E");
    expect(toHex(apdu)).toBe("C0 01 C2 00 01 00 00 2A 00 00 FF 02 00"); // the caller's APDU is not touched
  });

  it("a frame's 1-byte addresses are shared arrays, equal to the wire bytes; longer ones are copies", () => {
    const info = fromHex("E6 E7 00 C4 01 C1 00 12 00 EB");
    const a = decodeFrame(encodeFrame({ dest: CLIENT, src: SERVER, control: iControl(0, 1, true), info }));
    const b = decodeFrame(encodeFrame({ dest: CLIENT, src: SERVER, control: iControl(1, 2, true), info }));
    expect(toHex(a.dest)).toBe("21");
    expect(toHex(a.src)).toBe("03");
    expect(a.dest).toBe(b.dest); // one array for every frame to client 16: no allocation per frame
    const fourByte = encodeServerAddress(1, 1234);
    const c = decodeFrame(encodeFrame({ dest: CLIENT, src: fourByte, control: iControl(0, 1, true), info }));
    const d = decodeFrame(encodeFrame({ dest: CLIENT, src: fourByte, control: iControl(0, 1, true), info }));
    expect(toHex(c.src)).toBe(toHex(fourByte));
    expect(c.src).not.toBe(d.src);
  });

  it("a server segment: format A8 (segmented), F set, 2-byte server address", () => {
    const dest = encodeServerAddress(1, 17, 2);
    const frame = encodeFrame({ dest, src: CLIENT, control: uControl("SNRM", true) });
    expect(toHex(frame)).toBe("7E A0 08 02 23 21 93 BD 64 7E"); // captured SNRM to server 1/17
    const seg = decodeFrame(
      encodeFrame({
        dest: CLIENT,
        src: SERVER,
        control: iControl(1, 2, true),
        info: new Uint8Array(5),
        segmented: true,
      }),
    );
    expect(seg).toMatchObject({ type: "I", ns: 1, nr: 2, pf: true, format: { segmented: true } });
  });

  it("control fields round-trip for every N(S)/N(R)", () => {
    for (let ns = 0; ns < 8; ns++) {
      for (let nr = 0; nr < 8; nr++) {
        expect(decodeControl(iControl(ns, nr, ns % 2 === 0))).toEqual({ type: "I", ns, nr, pf: ns % 2 === 0 });
      }
      expect(decodeControl(rrControl(ns, false))).toEqual({ type: "RR", nr: ns, pf: false });
    }
    for (const t of ["SNRM", "DISC", "UA", "DM", "FRMR", "UI"] as const) {
      expect(decodeControl(uControl(t, true))).toEqual({ type: t, pf: true });
    }
  });
});

describe("decodeFrame rejects damaged frames with typed errors", () => {
  const good = fromHex("7E A0 19 03 21 76 4F DC E6 E6 00 C0 01 C2 00 01 00 00 2A 00 00 FF 02 00 A1 7E 7E");
  const damaged = (at: number, value: number) => {
    const b = good.slice();
    b[at] = value;
    return b;
  };
  const codeOf = (bytes: Uint8Array) => {
    try {
      decodeFrame(bytes);
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
      return (e as DecodeError).code;
    }
    return "ok";
  };

  it("names the failing check", () => {
    expect(codeOf(good)).toBe("ok");
    expect(codeOf(damaged(5, 0x74))).toBe("bad-hcs"); // control byte changed
    expect(codeOf(damaged(12, 0x00))).toBe("bad-fcs"); // data byte changed
    expect(codeOf(damaged(0, 0x00))).toBe("bad-flag");
    expect(codeOf(damaged(good.length - 1, 0x00))).toBe("bad-flag");
    expect(codeOf(damaged(1, 0x50))).toBe("bad-format");
    expect(codeOf(damaged(2, 0x18))).toBe("bad-format"); // length disagrees with the frame
    expect(codeOf(good.subarray(0, 5))).toBe("truncated");
  });

  it("reports unsupported control values (e.g. SREJ) as DecodeError", () => {
    const srej = encodeFrame({ dest: SERVER, src: CLIENT, control: 0x0d });
    expect(codeOf(srej)).toBe("unsupported");
  });
});

describe("describeFrame", () => {
  it("prints type, sequence numbers, P/F, source->destination and info length", () => {
    const frame = decodeFrame(
      fromHex("7E A0 19 03 21 76 4F DC E6 E6 00 C0 01 C2 00 01 00 00 2A 00 00 FF 02 00 A1 7E 7E"),
    );
    expect(describeFrame(frame)).toBe("I(ns=3,nr=3,P) 0x21->0x03 16B");
    expect(describeFrame(decodeFrame(fromHex("7E A0 07 03 21 93 0F 01 7E")))).toBe("SNRM(P) 0x21->0x03 0B");
  });
});
