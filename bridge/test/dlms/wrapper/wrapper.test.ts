import { describe, expect, it } from "vitest";
import { concatBytes } from "../../../src/dlms/codec/bytes.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { DecodeError, LocalProtocolError } from "../../../src/dlms/errors.js";
import type { DeframerResult } from "../../../src/dlms/hdlc/deframer.js";
import type { LinkEvent } from "../../../src/dlms/link.js";
import { decodeWrapper, encodeWrapper, WrapperDeframer, type WrapperPdu } from "../../../src/dlms/wrapper/header.js";
import { WrapperLink } from "../../../src/dlms/wrapper/link.js";
import { loadVectorFrames, vectorFiles } from "../vectors.js";

function drain(d: WrapperDeframer): DeframerResult<WrapperPdu>[] {
  const out: DeframerResult<WrapperPdu>[] = [];
  for (let r = d.next(); r; r = d.next()) out.push(r);
  return out;
}

function feed(chunks: Uint8Array[], maxPduLength?: number): string[] {
  const d = new WrapperDeframer({ maxPduLength });
  return chunks.flatMap((c) => {
    d.push(c);
    return drain(d).map((r) => ("frame" in r ? `pdu:${toHex(r.bytes)}` : `error:${r.error.code}`));
  });
}

function events(link: WrapperLink): LinkEvent[] {
  const out: LinkEvent[] = [];
  for (let e = link.nextEvent(); e; e = link.nextEvent()) out.push(e);
  return out;
}

const RLRQ = fromHex("00 01 00 10 00 01 00 05 62 03 80 01 00");

describe("wrapper PDUs from the captures", () => {
  for (const file of vectorFiles(/wrapper.*\.txt$/)) {
    it(`${file}: every PDU decodes and re-encodes to the same bytes`, () => {
      for (const { dir, bytes, line } of loadVectorFrames(file)) {
        const pdu = decodeWrapper(bytes);
        expect(pdu.version).toBe(1);
        expect([pdu.srcWPort, pdu.dstWPort], `line ${line}`).toEqual(dir === "tx" ? [16, 1] : [1, 16]);
        expect(toHex(encodeWrapper(pdu.srcWPort, pdu.dstWPort, pdu.payload))).toBe(toHex(bytes));
      }
    });

    it(`${file}: the deframer gives the same PDUs at every chunk boundary`, () => {
      for (const dir of ["tx", "rx"] as const) {
        const pdus = loadVectorFrames(file)
          .filter((f) => f.dir === dir)
          .slice(0, 6)
          .map((f) => f.bytes);
        const want = pdus.map((b) => `pdu:${toHex(b)}`);
        const stream = concatBytes(...pdus);
        for (let cut = 0; cut <= stream.length; cut++) {
          expect(feed([stream.subarray(0, cut), stream.subarray(cut)]), `cut ${cut}`).toEqual(want);
        }
      }
    });
  }
});

describe("WrapperDeframer errors", () => {
  it("reports a wrong version, drops what was buffered and restarts with the next chunk", () => {
    const bad = RLRQ.slice();
    bad[1] = 0x02;
    expect(feed([concatBytes(bad, RLRQ), RLRQ])).toEqual(["error:bad-format", `pdu:${toHex(RLRQ)}`]);
  });

  it("reports a length above maxPduLength as too-large without waiting for it", () => {
    const huge = fromHex("00 01 00 10 00 01 10 00");
    expect(feed([huge], 1024)).toEqual(["error:too-large"]);
    expect(feed([huge, RLRQ], 1024)).toEqual(["error:too-large", `pdu:${toHex(RLRQ)}`]);
  });

  it("decodeWrapper refuses bytes after the payload and short input with DecodeError", () => {
    expect(() => decodeWrapper(concatBytes(RLRQ, Uint8Array.of(0)))).toThrow(DecodeError);
    expect(() => decodeWrapper(RLRQ.subarray(0, 10))).toThrow(expect.objectContaining({ code: "truncated" }));
  });

  it("encodeWrapper refuses a payload over 65535 bytes and bad ports", () => {
    expect(() => encodeWrapper(16, 1, new Uint8Array(65536))).toThrow(LocalProtocolError);
    expect(() => encodeWrapper(-1, 1, new Uint8Array(1))).toThrow(/source wPort/);
  });
});

describe("WrapperLink", () => {
  it("client: connected at once, writes the captured requests and reads the captured replies", () => {
    const link = new WrapperLink({ role: "client", clientWPort: 16, serverWPort: 1 });
    link.connect();
    expect(events(link)).toEqual([{ type: "connected" }]);
    for (const { dir, bytes } of loadVectorFrames("u9n_wrapper_none.txt")) {
      const payload = bytes.subarray(8);
      if (dir === "tx") {
        link.sendApdu(payload);
        expect(link.takeOutgoing().map((b) => toHex(b))).toEqual([toHex(bytes)]);
      } else {
        link.receiveData(bytes);
        const got = events(link);
        expect(got.map((e) => e.type)).toEqual(["frame", "apdu"]);
        expect(got[0]).toMatchObject({ summary: `WPDU 1->16 ${payload.length}B` });
        expect(toHex((got[1] as { apdu: Uint8Array }).apdu)).toBe(toHex(payload));
      }
    }
    link.disconnect();
    expect(events(link)).toEqual([{ type: "disconnected", reason: "disc" }]);
  });

  it("server: learns the client's wPort and answers to it", () => {
    const server = new WrapperLink({ role: "server", clientWPort: 16, serverWPort: 1 });
    server.receiveData(fromHex("00 01 00 11 00 01 00 02 C0 01"));
    expect(events(server).map((e) => e.type)).toEqual(["frame", "connected", "apdu"]);
    server.sendApdu(Uint8Array.of(0xc4));
    expect(server.takeOutgoing().map((b) => toHex(b))).toEqual(["00 01 00 01 00 11 00 01 C4"]);
  });

  it("discards PDUs for another wPort (bad-address) and PDUs from an unexpected server", () => {
    const server = new WrapperLink({ role: "server", clientWPort: 16, serverWPort: 1 });
    server.receiveData(encodeWrapper(16, 2, Uint8Array.of(1)));
    expect(events(server).at(-1)).toMatchObject({ type: "discarded", error: { code: "bad-address" } });
    expect(server.takeOutgoing()).toEqual([]);
    const client = new WrapperLink({ role: "client", clientWPort: 16, serverWPort: 1 });
    client.connect();
    client.receiveData(encodeWrapper(5, 16, Uint8Array.of(1)));
    expect(events(client).at(-1)).toMatchObject({ type: "discarded", error: { code: "bad-address" } });
  });

  it("client and server exchange APDUs of 1..65535 bytes in any chunking", () => {
    const client = new WrapperLink({ role: "client", clientWPort: 16, serverWPort: 1 });
    const server = new WrapperLink({ role: "server", clientWPort: 16, serverWPort: 1 });
    client.connect();
    events(client);
    for (const n of [1, 2, 7, 8, 9, 127, 128, 129, 1000, 5000, 65535]) {
      const apdu = Uint8Array.from({ length: n }, (_, i) => (i * 13 + n) & 0xff);
      client.sendApdu(apdu);
      const [pdu] = client.takeOutgoing();
      for (let at = 0; at < pdu!.length; at += 997) server.receiveData(pdu!.subarray(at, at + 997));
      const got = events(server).filter((e) => e.type === "apdu" || e.type === "discarded");
      expect(got).toHaveLength(1);
      expect(toHex((got[0] as { apdu: Uint8Array }).apdu)).toBe(toHex(apdu));
      server.sendApdu(apdu);
      client.receiveData(server.takeOutgoing()[0]!);
      expect(events(client).filter((e) => e.type === "apdu")).toHaveLength(1);
    }
  });

  it("refuses APDUs over maxPduLength and sending before connect()", () => {
    const link = new WrapperLink({ role: "client", clientWPort: 16, serverWPort: 1, maxPduLength: 100 });
    expect(() => link.sendApdu(Uint8Array.of(1))).toThrow(LocalProtocolError);
    link.connect();
    expect(() => link.sendApdu(new Uint8Array(101))).toThrow(/maxPduLength 100/);
  });
});
