// HDLC frame format type 3 (IEC 62056-46 §6.4):
//   7E | format (2) | dest addr | src addr | control | [HCS (2) | info] | FCS (2) | 7E
// format = 1010 S LLL LLLLLLLL: type 3, segmentation bit S, 11-bit length of everything between the flags.
// HCS covers format..control and is present only when there is an information field; FCS covers format..info.
// Both are CRC-16/X.25, least significant byte first.

import { crc16x25 } from "../codec/crc16.js";
import { ByteReader } from "../codec/reader.js";
import { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { formatAddress, readAddressBytes } from "./address.js";
import { decodeControl, type FrameType } from "./control.js";

export const FLAG = 0x7e;
/** Largest value of the 11-bit length field. */
export const MAX_FRAME_LENGTH = 0x7ff;
const FORMAT_TYPE_3 = 0xa000;
const SEGMENTED = 0x0800;

export interface HdlcFrame {
  format: { segmented: boolean; length: number };
  dest: Uint8Array;
  src: Uint8Array;
  control: number;
  type: FrameType;
  pf: boolean;
  ns?: number;
  nr?: number;
  info: Uint8Array;
}

/** What encodeFrame needs: addresses as wire bytes (see address.ts), a control byte (see control.ts). */
export interface FrameInput {
  dest: Uint8Array;
  src: Uint8Array;
  control: number;
  /** Omitted or empty: no information field, so no HCS either. */
  info?: Uint8Array;
  /** Bytes written in front of `info` in the same information field (the LLC header), saving a concatenation. */
  infoPrefix?: Uint8Array;
  segmented?: boolean;
}

/** One complete frame with opening and closing flag. */
export function encodeFrame(input: FrameInput): Uint8Array {
  const prefix = input.infoPrefix;
  const infoLength = (input.info?.length ?? 0) + (prefix?.length ?? 0);
  const header = 2 + input.dest.length + input.src.length + 1;
  const length = header + (infoLength > 0 ? 2 + infoLength : 0) + 2;
  if (length > MAX_FRAME_LENGTH) {
    throw new LocalProtocolError(`HDLC frame of ${length} bytes exceeds the 11-bit length field (${MAX_FRAME_LENGTH})`);
  }
  // Sized to the frame exactly: written() then hands out the writer's own array, no copy and no view.
  const w = new ByteWriter(length + 2);
  w.writeUInt8(FLAG);
  w.writeUInt16(FORMAT_TYPE_3 | (input.segmented ? SEGMENTED : 0) | length);
  w.writeBytes(input.dest).writeBytes(input.src).writeUInt8(input.control);
  if (infoLength > 0) {
    writeCrc(w, 1, 1 + header);
    if (prefix) w.writeBytes(prefix);
    if (input.info) w.writeBytes(input.info);
  }
  writeCrc(w, 1, 1 + length - 2);
  w.writeUInt8(FLAG);
  return w.written();
}

function writeCrc(w: ByteWriter, start: number, end: number): void {
  const crc = crc16x25(w.internalBytes, start, end);
  w.writeUInt8(crc & 0xff).writeUInt8(crc >> 8);
}

/**
 * Decodes one complete frame including both flags and verifies HCS and FCS.
 * Throws DecodeError: bad-flag, bad-format, bad-address, bad-hcs, bad-fcs, unsupported (control), truncated.
 */
export function decodeFrame(bytes: Uint8Array): HdlcFrame {
  if (bytes.length < 9) throw new DecodeError("truncated", `HDLC frame of ${bytes.length} bytes (minimum 9)`, 0);
  if (bytes[0] !== FLAG) throw new DecodeError("bad-flag", `HDLC frame does not start with 7E`, 0);
  if (bytes[bytes.length - 1] !== FLAG) {
    throw new DecodeError("bad-flag", `HDLC frame does not end with 7E`, bytes.length - 1);
  }
  const r = new ByteReader(bytes, 1, bytes.length - 1);
  const format = r.readUInt16("HDLC format field");
  if ((format & 0xf000) !== FORMAT_TYPE_3) {
    throw new DecodeError("bad-format", `HDLC format field 0x${hex4(format)} is not type 3 (0xA...)`, 1);
  }
  const length = format & MAX_FRAME_LENGTH;
  if (length !== bytes.length - 2) {
    throw new DecodeError("bad-format", `HDLC length field says ${length} but the frame holds ${bytes.length - 2}`, 1);
  }
  const dest = readAddressBytes(r);
  const src = readAddressBytes(r);
  if (src.length !== 1 && dest.length !== 1) {
    throw new DecodeError("bad-address", "HDLC frame has no 1-byte (client) address on either side", 3);
  }
  const control = r.readUInt8("HDLC control field");
  const headerEnd = r.offset;
  const fcsAt = bytes.length - 3;
  let info: Uint8Array;
  if (fcsAt === headerEnd) {
    info = new Uint8Array(0);
  } else if (fcsAt - headerEnd >= 2) {
    checkCrc(bytes, headerEnd, "bad-hcs", "HCS");
    info = bytes.slice(headerEnd + 2, fcsAt);
  } else {
    throw new DecodeError(
      "bad-format",
      `HDLC frame has ${fcsAt - headerEnd} stray byte(s) after the control field`,
      headerEnd,
    );
  }
  checkCrc(bytes, fcsAt, "bad-fcs", "FCS");
  const fields = decodeControl(control);
  // Every frame has the same fields (ns/nr undefined where the type has none): one object shape for the links.
  return {
    format: { segmented: (format & SEGMENTED) !== 0, length },
    dest,
    src,
    control,
    type: fields.type,
    pf: fields.pf,
    ns: fields.ns,
    nr: fields.nr,
    info,
  };
}

/** Verifies the CRC stored at bytes[at..at+1] over bytes[1, at). */
function checkCrc(bytes: Uint8Array, at: number, code: "bad-hcs" | "bad-fcs", what: string): void {
  const expected = crc16x25(bytes, 1, at);
  const actual = bytes[at]! | (bytes[at + 1]! << 8);
  if (expected !== actual) {
    throw new DecodeError(code, `HDLC ${what} 0x${hex4(actual)} does not match computed 0x${hex4(expected)}`, at);
  }
}

/**
 * Offset just past the control field of the frame whose opening flag is at `start`, or null if the addresses
 * are not complete yet. Lets the deframer check the HCS before the rest of a long frame has arrived.
 */
export function headerEnd(bytes: Uint8Array, start: number, end = bytes.length): number | null {
  let pos = start + 3; // flag + format
  for (let address = 0; address < 2; address++) {
    let n = 0;
    for (;;) {
      if (pos >= end) return null;
      n++;
      if (bytes[pos++]! & 1) break;
      if (n === 4)
        throw new DecodeError("bad-address", `HDLC address longer than 4 bytes at offset ${pos - 4}`, pos - 4);
    }
  }
  return pos + 1 <= end ? pos + 1 : null;
}

/** True if the frame at `start` has an information field and its HCS is wrong (header already complete). */
export function hasBadHcs(bytes: Uint8Array, start: number, afterControl: number, frameLength: number): boolean {
  const fcsAt = start + 1 + frameLength - 2;
  if (fcsAt - afterControl < 2) return false;
  const actual = bytes[afterControl]! | (bytes[afterControl + 1]! << 8);
  return crc16x25(bytes, start + 1, afterControl) !== actual;
}

/** One line for traces, e.g. "I(ns=1,nr=2,P) 0x21->0x03 20B" (source->destination, information bytes). */
export function describeFrame(f: HdlcFrame): string {
  const fields: string[] = [];
  if (f.ns !== undefined) fields.push(`ns=${f.ns}`);
  if (f.nr !== undefined) fields.push(`nr=${f.nr}`);
  if (f.pf) fields.push("P");
  const segmented = f.format.segmented ? " seg" : "";
  return `${f.type}(${fields.join(",")}) ${formatAddress(f.src)}->${formatAddress(f.dest)} ${f.info.length}B${segmented}`;
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, "0").toUpperCase();
}
