// APDUs out of the captured conversations: HDLC I-frames are unwrapped by their header layout (addresses end at
// the byte with bit 0 set), segments (format bit 0x08) are joined and the LLC header dropped; wrapper PDUs lose
// their 8-byte header. Independent of the production link layer on purpose.

import { concatBytes } from "../../../src/dlms/codec/bytes.js";
import { type Direction, loadVectorFrames } from "../vectors.js";

export interface VectorApdu {
  dir: Direction;
  apdu: Uint8Array;
  line: number;
}

const LLC_HEADER_LENGTH = 3;
const WRAPPER_HEADER_LENGTH = 8;
const SEGMENTED = 0x08;

function addressEnd(frame: Uint8Array, start: number): number {
  let i = start;
  while (!(frame[i]! & 0x01)) i++;
  return i + 1;
}

/** Information field of an I-frame, or undefined for S/U frames (SNRM, UA, RR, DISC). */
function iFrameInfo(frame: Uint8Array): Uint8Array | undefined {
  const controlAt = addressEnd(frame, addressEnd(frame, 3));
  if (frame[controlAt]! & 0x01) return undefined;
  return frame.subarray(controlAt + 3, frame.length - 3); // after HCS, before FCS and flag
}

export function loadVectorApdus(file: string): VectorApdu[] {
  const frames = loadVectorFrames(file);
  if (file.includes("wrapper")) {
    return frames.map((f) => ({ dir: f.dir, apdu: f.bytes.slice(WRAPPER_HEADER_LENGTH), line: f.line }));
  }
  const out: VectorApdu[] = [];
  let segments: Uint8Array[] = [];
  let firstLine = 0;
  for (const f of frames) {
    const info = iFrameInfo(f.bytes);
    if (!info) continue;
    if (segments.length === 0) firstLine = f.line;
    segments.push(info);
    if (f.bytes[1]! & SEGMENTED) continue;
    out.push({ dir: f.dir, apdu: concatBytes(...segments).slice(LLC_HEADER_LENGTH), line: firstLine });
    segments = [];
  }
  return out;
}

export function apdusOf(file: string, dir: Direction): Uint8Array[] {
  return loadVectorApdus(file)
    .filter((a) => a.dir === dir)
    .map((a) => a.apdu);
}
