import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { LocalProtocolError } from "../../../src/dlms/errors.js";
import { encodeClientAddress, encodeServerAddress } from "../../../src/dlms/hdlc/address.js";
import { iControl, rrControl, uControl } from "../../../src/dlms/hdlc/control.js";
import { decodeFrame, encodeFrame } from "../../../src/dlms/hdlc/frame.js";
import { HdlcLink, type HdlcLinkOptions, peekDestination } from "../../../src/dlms/hdlc/link.js";
import type { HdlcParameters } from "../../../src/dlms/link.js";
import { collect, discards, type Side, shuttle, side, summaries, take } from "./pair.js";

const CAPTURED_UA = fromHex(
  "7E A0 1E 21 03 73 C3 7A 81 80 12 05 01 80 06 01 80 07 04 00 00 00 01 08 04 00 00 00 01 53 3B 7E",
);

function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
}

function connectedPair(
  server: HdlcLinkOptions["serverAddress"] = { logical: 1 },
  clientProposed?: Partial<HdlcParameters>,
  serverLimits?: Partial<HdlcParameters>,
): { client: Side; server: Side } {
  const client = side(
    new HdlcLink({ role: "client", clientAddress: 16, serverAddress: server, proposed: clientProposed }),
  );
  const srv = side(new HdlcLink({ role: "server", clientAddress: 16, serverAddress: server, proposed: serverLimits }));
  client.link.connect();
  shuttle(client, srv);
  expect(take(client, "connected")).toHaveLength(1);
  expect(take(srv, "connected")).toHaveLength(1);
  return { client, server: srv };
}

/** Request from client, answer from server; returns what each side received. */
function exchange(client: Side, server: Side, request: Uint8Array, response: Uint8Array): void {
  client.link.sendApdu(request);
  shuttle(client, server);
  const got = take(server, "apdu");
  expect(got).toHaveLength(1);
  expect(toHex(got[0]!.apdu)).toBe(toHex(request));
  server.link.sendApdu(response);
  shuttle(client, server);
  const answer = take(client, "apdu");
  expect(answer).toHaveLength(1);
  expect(toHex(answer[0]!.apdu)).toBe(toHex(response));
}

describe("HdlcLink shared values", () => {
  it("links with the same addressing and parameters share the frozen parameter objects, and still negotiate each", () => {
    const a = connectedPair({ logical: 1, physical: 17 }, { maxInfoTx: 512, maxInfoRx: 512 }, { maxInfoRx: 256 });
    const b = connectedPair({ logical: 1, physical: 17 }, { maxInfoTx: 512, maxInfoRx: 512 }, { maxInfoRx: 256 });
    const c = connectedPair({ logical: 1, physical: 17 }, { maxInfoTx: 512, maxInfoRx: 512 }, { maxInfoRx: 1024 });
    const pa = (a.client.link as HdlcLink).params;
    expect(pa).toEqual({ maxInfoTx: 256, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
    expect((b.client.link as HdlcLink).params).toBe(pa); // the same object, not an equal one
    expect(Object.isFrozen(pa)).toBe(true);
    expect((c.client.link as HdlcLink).params).toEqual({ maxInfoTx: 512, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
    // The shared address bytes are the ones on the wire: each pair still exchanges, addressed right.
    exchange(a.client, a.server, pattern(300, 1), pattern(40, 2));
    exchange(b.client, b.server, pattern(20, 3), pattern(700, 4));
  });
});

describe("HdlcLink client connect/disconnect", () => {
  it("sends the captured SNRM and takes the captured UA as 128/128/1/1", () => {
    const link = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } });
    link.connect();
    expect(link.takeOutgoing().map((f) => toHex(f))).toEqual(["7E A0 07 03 21 93 0F 01 7E"]);
    link.receiveData(CAPTURED_UA);
    expect(link.nextEvent()).toMatchObject({ type: "frame", summary: "UA(P) 0x03->0x21 21B" });
    expect(link.nextEvent()).toEqual({
      type: "connected",
      params: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 },
    });
    expect(link.isConnected).toBe(true);
  });

  it("proposes non-default parameters in the SNRM and adopts what the UA grants", () => {
    const link = new HdlcLink({
      role: "client",
      clientAddress: 16,
      serverAddress: { logical: 1 },
      proposed: { maxInfoTx: 512, maxInfoRx: 256 },
    });
    link.connect();
    const snrm = decodeFrame(link.takeOutgoing()[0]!);
    expect(toHex(snrm.info)).toBe("81 80 14 05 02 02 00 06 02 01 00 07 04 00 00 00 01 08 04 00 00 00 01");
    link.receiveData(CAPTURED_UA); // server grants 128 both ways
    collect(side(link));
    expect(link.params).toEqual({ maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 });
  });

  it("a UA without parameters means the defaults", () => {
    const link = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } });
    link.connect();
    link.receiveData(
      encodeFrame({ dest: encodeClientAddress(16), src: encodeServerAddress(1), control: uControl("UA", true) }),
    );
    const events = collect(side(link));
    expect(events[0]).toEqual({
      type: "connected",
      params: { maxInfoTx: 128, maxInfoRx: 128, windowTx: 1, windowRx: 1 },
    });
  });

  it("DISC -> UA ends the link on both sides", () => {
    const { client, server } = connectedPair();
    client.link.disconnect();
    shuttle(client, server);
    expect(summaries(client.sent.slice(-1))).toEqual(["DISC(P) 0x21->0x03 0B"]);
    expect(summaries(server.sent.slice(-1))).toEqual(["UA(P) 0x03->0x21 0B"]);
    expect(take(client, "disconnected")).toEqual([{ type: "disconnected", reason: "ua" }]);
    expect(take(server, "disconnected")).toEqual([{ type: "disconnected", reason: "disc" }]);
    expect(client.link.isConnected || server.link.isConnected).toBe(false);
  });

  it("DISC to a server that is not connected gets DM (freeing a meter before SNRM)", () => {
    const client = side(new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } }));
    const server = side(new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 } }));
    client.link.disconnect();
    shuttle(client, server);
    expect(summaries(server.sent)).toEqual(["DM(P) 0x03->0x21 0B"]);
    expect(take(client, "disconnected")).toEqual([{ type: "disconnected", reason: "dm" }]);
  });

  it("DM in answer to SNRM and FRMR at any time end the link", () => {
    const link = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } });
    const from = { dest: encodeClientAddress(16), src: encodeServerAddress(1) };
    link.connect();
    link.receiveData(encodeFrame({ ...from, control: uControl("DM", true) }));
    expect(collect(side(link)).at(-1)).toEqual({ type: "disconnected", reason: "dm" });
    link.connect();
    link.receiveData(CAPTURED_UA);
    link.receiveData(encodeFrame({ ...from, control: uControl("FRMR", true), info: Uint8Array.of(0, 0, 0) }));
    expect(collect(side(link)).at(-1)).toEqual({ type: "disconnected", reason: "frmr" });
    expect(link.isConnected).toBe(false);
  });

  it("refuses to send before the link is up, with a LocalProtocolError", () => {
    const link = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } });
    expect(() => link.sendApdu(Uint8Array.of(1))).toThrow(LocalProtocolError);
    const server = new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 } });
    expect(() => server.connect()).toThrow(LocalProtocolError);
  });
});

describe("HdlcLink server role", () => {
  it("answers SNRM with UA carrying min(own, proposed)", () => {
    const { client, server } = connectedPair(
      { logical: 1 },
      { maxInfoTx: 1024, maxInfoRx: 200, windowTx: 1, windowRx: 1 },
      {
        maxInfoTx: 512,
        maxInfoRx: 512,
      },
    );
    const ua = decodeFrame(server.sent[0]!);
    // Server transmits min(512, client rx 200) = 200 and receives min(512, client tx 1024) = 512.
    expect(toHex(ua.info)).toBe("81 80 13 05 01 C8 06 02 02 00 07 04 00 00 00 01 08 04 00 00 00 01");
    expect((server.link as HdlcLink).params).toEqual({ maxInfoTx: 200, maxInfoRx: 512, windowTx: 1, windowRx: 1 });
    expect((client.link as HdlcLink).params).toEqual({ maxInfoTx: 512, maxInfoRx: 200, windowTx: 1, windowRx: 1 });
  });

  it("stays silent for a frame addressed to another server but reports it", () => {
    const server = new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1, physical: 4321 } });
    server.receiveData(fromHex("7E A0 08 02 23 21 93 BD 64 7E")); // captured SNRM to 1/17
    expect(server.takeOutgoing()).toEqual([]);
    const s = side(server);
    const events = collect(s);
    expect(s.framesReceived).toBe(1);
    expect(events.map((e) => e.type)).toEqual(["discarded"]);
    expect(events[0]).toMatchObject({ error: { code: "bad-address" } });
    expect(server.isConnected).toBe(false);
  });

  it("a client drops frames from another server address (bad-address)", () => {
    const { client } = connectedPair();
    const wrongServer = encodeFrame({
      dest: encodeClientAddress(16),
      src: encodeServerAddress(2),
      control: rrControl(0, true),
    });
    client.link.receiveData(wrongServer);
    expect(collect(client).at(-1)).toMatchObject({ type: "discarded", error: { code: "bad-address" } });
  });

  it("answers an I-frame while disconnected with DM", () => {
    const server = new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 } });
    const info = Uint8Array.of(0xe6, 0xe6, 0x00, 0xc0);
    server.receiveData(
      encodeFrame({ dest: encodeServerAddress(1), src: encodeClientAddress(16), control: iControl(0, 0, true), info }),
    );
    expect(summaries(server.takeOutgoing())).toEqual(["DM(P) 0x03->0x21 0B"]);
  });

  it("works with 4-byte addressing (physical = last digits of the serial) and learns the client SAP", () => {
    const address = { logical: 1, physical: 4321 };
    const client = side(new HdlcLink({ role: "client", clientAddress: 17, serverAddress: address }));
    const server = side(new HdlcLink({ role: "server", clientAddress: 16, serverAddress: address }));
    client.link.connect();
    const snrm = client.link.takeOutgoing();
    expect(toHex(snrm[0]!.subarray(3, 8))).toBe("00 02 42 C3 23");
    expect(peekDestination(snrm[0]!)).toMatchObject({ logical: 1, physical: 4321, size: 4, client: 17 });
    server.link.receiveData(snrm[0]!);
    shuttle(client, server);
    exchange(client, server, pattern(40, 1), pattern(300, 2));
    expect(discards(client).concat(discards(server))).toEqual([]);
    expect(summaries(server.sent.slice(-1))[0]).toMatch(/0x00024 ?2C3->0x23/);
  });
});

describe("peekDestination", () => {
  it("finds the destination of the first valid frame, skipping garbage, or null", () => {
    expect(peekDestination(fromHex("7E A0 07 03"))).toBeNull();
    const found = peekDestination(fromHex("11 22 7E A0 08 02 23 21 93 BD 64 7E"));
    expect(found).toMatchObject({ logical: 1, physical: 17, size: 2, client: 16 });
  });
});

describe("HdlcLink pair: segmentation with maxInfo 128, window 1", () => {
  it("exchanges APDUs of 1..5000 bytes both ways, every frame within 128 info bytes, no discards", () => {
    const { client, server } = connectedPair();
    const sizes = [
      ...Array.from({ length: 300 }, (_, i) => i + 1),
      ...Array.from({ length: 60 }, (_, i) => 301 + i * 78),
      4999,
      5000,
    ];
    for (const n of sizes) exchange(client, server, pattern(n, n), pattern(5001 - n, n + 7));
    for (const f of [...client.sent, ...server.sent]) expect(decodeFrame(f).info.length).toBeLessThanOrEqual(128);
    expect(discards(client)).toEqual([]);
    expect(discards(server)).toEqual([]);
  });

  it("segments as the standard says: LLC on the first segment only, RR polls, P/F on every frame", () => {
    const { client, server } = connectedPair();
    client.link.sendApdu(pattern(200, 0)); // 203 info bytes -> 128 + 75
    shuttle(client, server);
    server.link.sendApdu(pattern(130, 0)); // 133 -> 128 + 5
    shuttle(client, server);
    expect(summaries(client.sent.slice(1))).toEqual([
      "I(ns=0,nr=0,P) 0x21->0x03 128B seg",
      "I(ns=1,nr=0,P) 0x21->0x03 75B",
      "RR(nr=1,P) 0x21->0x03 0B",
    ]);
    expect(summaries(server.sent.slice(1))).toEqual([
      "RR(nr=1,P) 0x03->0x21 0B",
      "I(ns=0,nr=2,P) 0x03->0x21 128B seg",
      "I(ns=1,nr=2,P) 0x03->0x21 5B",
    ]);
    expect(toHex(decodeFrame(client.sent[1]!).info.subarray(0, 3))).toBe("E6 E6 00");
    expect(toHex(decodeFrame(server.sent[2]!).info.subarray(0, 3))).toBe("E6 E7 00");
  });

  it("runs 2100 exchanges with N(S)/N(R) wrapping modulo 8 and no discards", () => {
    const { client, server } = connectedPair();
    for (let i = 0; i < 2100; i++) exchange(client, server, pattern(1 + (i % 150), i), pattern(1 + ((i * 7) % 260), i));
    const iFrames = client.sent.map((f) => decodeFrame(f)).filter((d) => d.type === "I");
    expect(iFrames.length).toBeGreaterThanOrEqual(2100); // N(S) wrapped past 7 hundreds of times
    expect(new Set(iFrames.map((d) => d.ns))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7]));
    expect(new Set(iFrames.map((d) => d.nr))).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7]));
    expect(discards(client).concat(discards(server))).toEqual([]);
  });

  it("works with window 3: P only on the window's last frame, RR per window", () => {
    const { client, server } = connectedPair(
      { logical: 1 },
      { windowTx: 3, windowRx: 3 },
      { windowTx: 7, windowRx: 7 },
    );
    expect((client.link as HdlcLink).params.windowTx).toBe(3);
    exchange(client, server, pattern(1000, 3), pattern(2000, 4));
    const flags = summaries(client.sent.slice(1, 5));
    expect(flags).toEqual([
      "I(ns=0,nr=0) 0x21->0x03 128B seg",
      "I(ns=1,nr=0) 0x21->0x03 128B seg",
      "I(ns=2,nr=0,P) 0x21->0x03 128B seg",
      "I(ns=3,nr=0) 0x21->0x03 128B seg",
    ]);
    expect(discards(client).concat(discards(server))).toEqual([]);
  });
});

describe("HdlcLink sequence errors", () => {
  it("discards an I-frame with the wrong N(S) and asks for the expected one with RR", () => {
    const { client, server } = connectedPair();
    const wrong = encodeFrame({
      dest: encodeServerAddress(1),
      src: encodeClientAddress(16),
      control: iControl(5, 0, true),
      info: Uint8Array.of(0xe6, 0xe6, 0x00, 0x01),
    });
    server.link.receiveData(wrong);
    expect(collect(server).at(-1)).toMatchObject({ type: "discarded", error: { code: "unexpected-frame" } });
    expect(summaries(server.link.takeOutgoing())).toEqual(["RR(nr=0,P) 0x03->0x21 0B"]);
    exchange(client, server, pattern(10, 0), pattern(10, 1)); // the link is still usable
  });

  it("resends a segment the peer's RR did not acknowledge", () => {
    const { client, server } = connectedPair();
    client.link.sendApdu(pattern(200, 9));
    const first = client.link.takeOutgoing();
    expect(summaries(first)).toEqual(["I(ns=0,nr=0,P) 0x21->0x03 128B seg"]);
    // The segment was lost: the server polls back with RR N(R)=0.
    client.link.receiveData(
      encodeFrame({ dest: encodeClientAddress(16), src: encodeServerAddress(1), control: rrControl(0, true) }),
    );
    const again = client.link.takeOutgoing();
    expect(again.map((f) => toHex(f))).toEqual(first.map((f) => toHex(f)));
    server.link.receiveData(again[0]!);
    shuttle(client, server);
    expect(take(server, "apdu").map((e) => toHex(e.apdu))).toEqual([toHex(pattern(200, 9))]);
  });

  it("discards an N(R) that acknowledges frames never sent", () => {
    const { client } = connectedPair();
    client.link.receiveData(
      encodeFrame({ dest: encodeClientAddress(16), src: encodeServerAddress(1), control: rrControl(4, true) }),
    );
    expect(collect(client).at(-1)).toMatchObject({ type: "discarded", error: { code: "unexpected-frame" } });
  });
});

describe("HdlcLink.poll()", () => {
  it("repeats SNRM while connecting, polls with RR(P) when connected, repeats DISC while disconnecting", () => {
    const link = new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 } });
    link.connect();
    link.poll();
    expect(link.takeOutgoing().map((f) => toHex(f))).toEqual([
      "7E A0 07 03 21 93 0F 01 7E",
      "7E A0 07 03 21 93 0F 01 7E",
    ]);
    link.receiveData(CAPTURED_UA);
    link.poll();
    expect(summaries(link.takeOutgoing())).toEqual(["RR(nr=0,P) 0x21->0x03 0B"]);
    link.disconnect();
    link.poll();
    expect(summaries(link.takeOutgoing())).toEqual(["DISC(P) 0x21->0x03 0B", "DISC(P) 0x21->0x03 0B"]);
  });

  it("a server with nothing to send answers a poll with RR carrying its N(R)", () => {
    const { client, server } = connectedPair();
    exchange(client, server, pattern(5, 0), pattern(5, 1));
    (client.link as HdlcLink).poll();
    shuttle(client, server);
    expect(summaries(server.sent.slice(-1))).toEqual(["RR(nr=1,P) 0x03->0x21 0B"]);
    expect(discards(client).concat(discards(server))).toEqual([]);
  });
});

describe("HdlcLink on a lossy line (client polls when a reply is overdue)", () => {
  /** Like shuttle(), but each frame is lost with the given probability (deterministic generator). */
  function lossyShuttle(a: Side, b: Side, lose: () => boolean): void {
    for (let round = 0; round < 1000; round++) {
      const fromA = a.link.takeOutgoing();
      const fromB = b.link.takeOutgoing();
      if (fromA.length === 0 && fromB.length === 0) break;
      for (const f of fromA) if (!lose()) b.link.receiveData(f);
      for (const f of fromB) if (!lose()) a.link.receiveData(f);
    }
    collect(a);
    collect(b);
  }

  it.each([
    [1, 128],
    [3, 64],
    [7, 32],
  ])(
    "window %i, max info %i: every request is delivered once and every answer arrives, despite losing 15 in 100 frames",
    (window, maxInfo) => {
      let seed = 12345;
      const lose = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed % 100 < 15;
      };
      const proposed = { maxInfoTx: maxInfo, maxInfoRx: maxInfo, windowTx: window, windowRx: window };
      const client = side(new HdlcLink({ role: "client", clientAddress: 16, serverAddress: { logical: 1 }, proposed }));
      const server = side(new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 }, proposed }));
      const poll = () => (client.link as HdlcLink).poll();
      client.link.connect();
      for (let i = 0; i < 50 && !client.link.isConnected; i++) {
        lossyShuttle(client, server, lose);
        if (!client.link.isConnected) poll();
      }
      expect(client.link.isConnected).toBe(true);
      expect((client.link as HdlcLink).params).toEqual(proposed);
      let polls = 0;
      for (let n = 0; n < 200; n++) {
        const request = pattern(1 + ((n * 37) % 400), n);
        const response = pattern(1 + ((n * 53) % 500), n + 1);
        client.link.sendApdu(request);
        let answered = false;
        let delivered = 0;
        for (let attempt = 0; attempt < 100; attempt++) {
          lossyShuttle(client, server, lose);
          const requests = take(server, "apdu");
          delivered += requests.length;
          expect(delivered, `exchange ${n}: request delivered more than once`).toBeLessThanOrEqual(1);
          if (requests.length === 1) {
            expect(toHex(requests[0]!.apdu)).toBe(toHex(request));
            server.link.sendApdu(response);
            continue;
          }
          const answers = take(client, "apdu");
          if (answers.length > 0) {
            expect(answers.map((e) => toHex(e.apdu))).toEqual([toHex(response)]);
            answered = true;
            break;
          }
          poll();
          polls++;
        }
        expect(answered, `exchange ${n}`).toBe(true);
        expect(take(server, "apdu")).toEqual([]); // no request delivered twice
      }
      expect(polls).toBeGreaterThan(20); // losses really happened and were recovered
    },
  );
});
