// Splits a received byte stream into HDLC frames by the 11-bit length of the format field. 0x7E is legal inside
// a frame (data, HCS, FCS), so the end of a frame is never searched for. Flags are only searched for to
// resynchronise after an error. Consecutive frames may share one flag, and idle flags between frames are skipped.

import { DecodeError } from "../errors.js";
import { decodeFrame, FLAG, type HdlcFrame, hasBadHcs, headerEnd, MAX_FRAME_LENGTH } from "./frame.js";

export type DeframerResult<F> = { frame: F; bytes: Uint8Array } | { error: DecodeError; bytes: Uint8Array };

export interface HdlcDeframerOptions {
  /**
   * Most bytes kept between push() and next(); on overflow the oldest are dropped and reported as a "too-large"
   * error. Draining next() after each push (as the links do) keeps the buffer under one frame (2049 bytes) anyway.
   */
  maxBuffered?: number;
}

/** Smallest length field: format (2) + dest (1) + src (1) + control (1) + FCS (2). */
const MIN_FRAME_LENGTH = 7;

export class HdlcDeframer {
  private buf = new Uint8Array(4096);
  private start = 0;
  private end = 0;
  private droppedOnOverflow = 0;
  private readonly maxBuffered: number;

  constructor(opts: HdlcDeframerOptions = {}) {
    this.maxBuffered = Math.max(opts.maxBuffered ?? 65536, MAX_FRAME_LENGTH + 2);
  }

  /** Bytes currently held (an incomplete frame, or input not yet pulled with next()). */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const excess = this.buffered + chunk.length - this.maxBuffered;
    if (excess <= 0) {
      this.append(chunk);
      return;
    }
    this.droppedOnOverflow += excess;
    const fromBuffer = Math.min(excess, this.buffered);
    this.start += fromBuffer;
    this.append(chunk.subarray(excess - fromBuffer));
  }

  /** The next frame or error, or null when more bytes are needed. Each call consumes what it returns. */
  next(): DeframerResult<HdlcFrame> | null {
    if (this.droppedOnOverflow > 0) {
      const n = this.droppedOnOverflow;
      this.droppedOnOverflow = 0;
      // The dropped bytes are gone (keeping them would defeat the bound): report how many.
      return {
        error: new DecodeError("too-large", `HDLC receive buffer full: dropped ${n} unread byte(s)`),
        bytes: new Uint8Array(0),
      };
    }
    for (;;) {
      const avail = this.buffered;
      if (avail === 0) return null;
      const b = this.buf;
      const s = this.start;
      if (b[s] !== FLAG) return this.resync(0, new DecodeError("bad-flag", "bytes outside an HDLC frame (no 7E flag)"));
      if (avail < 3) return null;
      if (b[s + 1] === FLAG) {
        this.start++; // idle fill, or closing flag followed by the next opening flag
        continue;
      }
      const format = (b[s + 1]! << 8) | b[s + 2]!;
      const length = format & MAX_FRAME_LENGTH;
      if ((format & 0xf000) !== 0xa000) {
        return this.resync(
          1,
          new DecodeError("bad-format", `HDLC format field 0x${hex4(format)} is not type 3 (0xA...)`),
        );
      }
      if (length < MIN_FRAME_LENGTH) {
        return this.resync(1, new DecodeError("bad-format", `HDLC length field ${length} is below the minimum 7`));
      }
      const total = length + 2;
      if (avail < total) return this.checkEarly(length);
      const frameBytes = b.slice(s, s + total);
      try {
        const frame = decodeFrame(frameBytes);
        this.start += total - 1; // keep the closing flag: it may also open the next frame
        return { frame, bytes: frameBytes };
      } catch (e) {
        const error = asDecodeError(e);
        // A verified HCS vouches for the length: skip the frame whole. Otherwise the length itself may be the
        // corrupt part, so look for the next flag after the opening one.
        if (this.lengthWasVerified(error, frameBytes)) {
          this.start += total - 1;
          return { error, bytes: frameBytes };
        }
        return this.resync(1, error);
      }
    }
  }

  private lengthWasVerified(error: DecodeError, frame: Uint8Array): boolean {
    if (error.code === "unsupported") return true; // control is decoded after both CRCs passed
    if (error.code !== "bad-fcs") return false;
    const afterControl = headerEnd(frame, 0);
    return afterControl !== null && frame.length - 3 > afterControl; // an HCS was present and passed
  }

  /** Frame incomplete: if its header has arrived, check the HCS now rather than wait for a length that lies. */
  private checkEarly(length: number): DeframerResult<HdlcFrame> | null {
    try {
      const afterControl = headerEnd(this.buf, this.start, this.end);
      if (afterControl === null || afterControl + 2 > this.end) return null;
      if (!hasBadHcs(this.buf, this.start, afterControl, length)) return null;
      return this.resync(1, new DecodeError("bad-hcs", "HDLC HCS does not match the header"));
    } catch (e) {
      return this.resync(1, asDecodeError(e));
    }
  }

  /** Drops bytes from `skipFrom` up to (not including) the next flag, reporting them with the error. */
  private resync(skipFrom: number, error: DecodeError): DeframerResult<HdlcFrame> {
    let i = this.start + skipFrom;
    while (i < this.end && this.buf[i] !== FLAG) i++;
    const bytes = this.buf.slice(this.start, i);
    this.start = i;
    return { error, bytes };
  }

  private append(chunk: Uint8Array): void {
    const live = this.buffered;
    if (this.end + chunk.length > this.buf.length) {
      const capacity = Math.max(this.buf.length, 2 ** Math.ceil(Math.log2(live + chunk.length)));
      const target = capacity === this.buf.length ? this.buf : new Uint8Array(capacity);
      target.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = target;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }
}

export function asDecodeError(e: unknown): DecodeError {
  if (e instanceof DecodeError) return e;
  return new DecodeError("malformed", `unexpected decoder failure: ${e instanceof Error ? e.message : String(e)}`);
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, "0").toUpperCase();
}
