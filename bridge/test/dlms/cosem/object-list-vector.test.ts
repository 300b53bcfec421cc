// The association object list (GET 0.0.40.0.0.255 attr 2) captured from the reference meter, reassembled by hand
// from the HDLC frames (segmented, block-transferred) and from the wrapper PDUs, then decoded.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeData, encodeData } from "../../../src/dlms/axdr/index.js";
import { concatBytes } from "../../../src/dlms/codec/bytes.js";
import { toHex } from "../../../src/dlms/codec/hex.js";
import { canRead, decodeObjectList, encodeObjectList } from "../../../src/dlms/cosem/association-ln.js";
import { DecodeError } from "../../../src/dlms/errors.js";
import { loadVectorFrames, type VectorFrame } from "../vectors.js";

const GET_OBJECT_LIST = "C0 01 C1 00 0F 00 00 28 00 00 FF 02 00";

/** Information field of an HDLC I-frame (flags, format, addresses, control, HCS and FCS removed). */
function hdlcInfo(frame: Uint8Array): { info: Uint8Array; segmented: boolean; isIFrame: boolean } {
  let pos = 3; // flag + 2-byte format
  for (let address = 0; address < 2; address++) {
    while ((frame[pos]! & 1) === 0) pos++; // address bytes end with the extension bit set
    pos++;
  }
  const control = frame[pos++]!;
  const hasInfo = frame.length > pos + 3; // control is followed by HCS only when an information field exists
  return {
    info: hasInfo ? frame.slice(pos + 2, frame.length - 3) : new Uint8Array(),
    segmented: (frame[1]! & 0x08) !== 0,
    isIFrame: (control & 1) === 0,
  };
}

function startsWith(b: Uint8Array, hex: string): boolean {
  return toHex(b).startsWith(hex);
}

/** Received APDUs after the object-list GET, from HDLC frames: join segments, strip the LLC header E6 E7 00. */
function hdlcApdus(frames: VectorFrame[]): Uint8Array[] {
  const apdus: Uint8Array[] = [];
  let segments: Uint8Array[] = [];
  for (const f of frames) {
    if (f.dir !== "rx") continue;
    const { info, segmented, isIFrame } = hdlcInfo(f.bytes);
    if (!isIFrame || info.length === 0) continue;
    segments.push(info);
    if (segmented) continue;
    const apdu = concatBytes(...segments);
    segments = [];
    expect(toHex(apdu.subarray(0, 3))).toBe("E6 E7 00");
    apdus.push(apdu.slice(3));
  }
  return apdus;
}

/** Joins the raw-data of GET-Response-With-Datablock APDUs (C4 02 invoke last-block block-number(4) 00 length raw). */
function joinDataBlocks(apdus: Uint8Array[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const apdu of apdus) {
    if (!startsWith(apdu, "C4 02")) continue;
    const blockNumber = new DataView(apdu.buffer, apdu.byteOffset).getUint32(4);
    expect(blockNumber).toBe(blocks.length + 1);
    expect(apdu[8]).toBe(0); // raw-data, not a data-access-result
    const lengthBytes = apdu[9] === 0x82 ? 3 : apdu[9] === 0x81 ? 2 : 1;
    const length = lengthBytes === 3 ? (apdu[10]! << 8) | apdu[11]! : lengthBytes === 2 ? apdu[10]! : apdu[9]!;
    const raw = apdu.slice(9 + lengthBytes);
    expect(raw.length).toBe(length);
    blocks.push(raw);
    if (apdu[3] !== 0) return concatBytes(...blocks); // last-block
  }
  throw new Error("no last block");
}

function afterObjectListGet(frames: VectorFrame[]): VectorFrame[] {
  const i = frames.findIndex((f) => f.dir === "tx" && toHex(f.bytes).includes(GET_OBJECT_LIST));
  expect(i).toBeGreaterThan(0);
  return frames.slice(i + 1);
}

const fromHdlc = joinDataBlocks(hdlcApdus(afterObjectListGet(loadVectorFrames("gurux_hdlc_none.txt"))));
const fromWrapper = joinDataBlocks(
  afterObjectListGet(loadVectorFrames("gurux_wrapper_none.txt"))
    .filter((f) => f.dir === "rx")
    .map((f) => f.bytes.slice(8)),
);

describe("captured association object list", () => {
  it("reassembles to the same A-XDR value over HDLC and over the wrapper", () => {
    expect(fromHdlc.length).toBeGreaterThan(3000);
    expect(toHex(fromHdlc)).toBe(toHex(fromWrapper));
  });

  const list = decodeObjectList(decodeData(fromHdlc));

  it("decodes every entry the array header announces", () => {
    expect(toHex(fromHdlc.subarray(0, 2))).toBe("01 34");
    expect(list).toHaveLength(0x34);
  });

  it("describes the objects the bridge reads", () => {
    const byObis = new Map(list.map((e) => [e.obis, e]));
    expect(byObis.get("0.0.40.0.0.255")).toMatchObject({ classId: 15, version: 2 });
    expect(byObis.get("0.0.40.0.0.255")?.attributes).toHaveLength(11);
    expect(byObis.get("1.1.21.25.0.255")).toMatchObject({ classId: 3, version: 0 });
    expect(byObis.get("0.0.42.0.0.255")?.classId).toBe(1);
    expect(byObis.get("0.0.1.0.0.255")?.classId).toBe(8);
    const register = byObis.get("1.1.21.25.0.255")!;
    expect(canRead(register, 2)).toBe(true);
    expect(canRead(register, 3)).toBe(true);
    expect(register.methods.map((m) => m.id)).toEqual([1]);
  });

  it("re-encodes byte for byte with encodeObjectList", () => {
    expect(toHex(encodeData(encodeObjectList(list)))).toBe(toHex(fromHdlc));
  });

  it("fails only with DecodeError when the captured bytes are corrupted", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        (flips) => {
          const bytes = fromHdlc.slice();
          for (const [at, value] of flips) bytes[at % bytes.length] = value;
          try {
            decodeObjectList(decodeData(bytes));
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
