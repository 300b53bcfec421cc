// Shared loader for the captured conversations in test/fixtures/dlms-vectors (see its README; a copy of the
// project's shared test data, so a clone is self-contained).
// Splitting is done here by the length fields alone (HDLC format field / wrapper header), independently of the
// production deframers, so the vectors can check those deframers rather than echo them.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { concatBytes } from "../../src/dlms/codec/bytes.js";
import { fromHex } from "../../src/dlms/codec/hex.js";

export const VECTORS_DIR =
  process.env.DLMS_VECTORS_DIR ?? fileURLToPath(new URL("../fixtures/dlms-vectors", import.meta.url));

export type Direction = "tx" | "rx";

export interface VectorChunk {
  dir: Direction;
  /** All bytes of one line (u9n: possibly several frames; gurux: one frame / PDU). */
  bytes: Uint8Array;
  /** 1-based line number in the file, for failure messages. */
  line: number;
}

export interface VectorFrame {
  dir: Direction;
  /** One complete HDLC frame with both flags, or one wrapper PDU (8-byte header + payload). */
  bytes: Uint8Array;
  line: number;
}

/** File names (not paths) in the vectors folder whose name matches, e.g. vectorFiles(/hdlc.*\.txt$/). */
export function vectorFiles(pattern: RegExp): string[] {
  return readdirSync(VECTORS_DIR)
    .filter((f) => pattern.test(f))
    .sort();
}

// gurux: "TX: 22:20:00<TAB>7E A0 ..."; u9n: "TX 22:20:01.406 7E A0 ..."
const LINE = /^(TX|RX):?\s+(\S+)\s+([0-9A-Fa-f\s]+)$/;

/** One entry per TX/RX line, bytes exactly as captured. */
export function loadVectorLines(file: string): VectorChunk[] {
  const text = readFileSync(file.includes("/") ? file : join(VECTORS_DIR, file), "utf8");
  const out: VectorChunk[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = LINE.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: not a TX/RX line: ${line.slice(0, 60)}`);
    out.push({ dir: m[1]!.toLowerCase() as Direction, bytes: fromHex(m[3]!), line: i + 1 });
  });
  return out;
}

/**
 * Frames (HDLC files) or PDUs (wrapper files, chosen by "wrapper" in the name), in capture order.
 * A frame split across consecutive lines of the same direction is joined; a shared flag between two HDLC
 * frames is given to both, so each returned frame starts and ends with 0x7E.
 */
export function loadVectorFrames(file: string): VectorFrame[] {
  const split = file.includes("wrapper") ? splitWrapper : splitHdlc;
  const out: VectorFrame[] = [];
  let pending: { dir: Direction; bytes: Uint8Array; line: number } | null = null;
  for (const chunk of loadVectorLines(file)) {
    if (pending && pending.dir !== chunk.dir) {
      throw new Error(`${file}:${pending.line}: ${pending.bytes.length} byte(s) left over before direction change`);
    }
    const bytes: Uint8Array = pending ? concatBytes(pending.bytes, chunk.bytes) : chunk.bytes;
    const line: number = pending?.line ?? chunk.line;
    const { frames, rest } = split(bytes, `${file}:${line}`);
    for (const f of frames) out.push({ dir: chunk.dir, bytes: f, line });
    pending = rest.length > 0 ? { dir: chunk.dir, bytes: rest, line } : null;
  }
  if (pending) throw new Error(`${file}:${pending.line}: truncated frame at end of file`);
  return out;
}

function splitHdlc(bytes: Uint8Array, where: string): { frames: Uint8Array[]; rest: Uint8Array } {
  const frames: Uint8Array[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes[pos] !== 0x7e) throw new Error(`${where}: expected flag 7E at byte ${pos}`);
    if (pos + 3 > bytes.length) break;
    const length = ((bytes[pos + 1]! & 0x07) << 8) | bytes[pos + 2]!; // format type 3: 11-bit length
    const end = pos + length + 1; // index of the closing flag
    if (end >= bytes.length) break;
    if (bytes[end] !== 0x7e) throw new Error(`${where}: no closing flag at byte ${end}`);
    frames.push(bytes.slice(pos, end + 1));
    // Two flags in a row, or one flag shared with the next frame.
    pos = bytes[end + 1] === 0x7e ? end + 1 : end;
    if (pos === end && end + 1 >= bytes.length) pos = end + 1;
  }
  return { frames, rest: bytes.slice(pos) };
}

function splitWrapper(bytes: Uint8Array, _where: string): { frames: Uint8Array[]; rest: Uint8Array } {
  const frames: Uint8Array[] = [];
  let pos = 0;
  while (pos + 8 <= bytes.length) {
    const length = (bytes[pos + 6]! << 8) | bytes[pos + 7]!;
    if (pos + 8 + length > bytes.length) break;
    frames.push(bytes.slice(pos, pos + 8 + length));
    pos += 8 + length;
  }
  return { frames, rest: bytes.slice(pos) };
}
