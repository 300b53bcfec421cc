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
const EMPTY = new Uint8Array(0);
/** The closing flag kept between frames (it may open the next one), held without a buffer of our own. */
const LONE_FLAG = Uint8Array.of(FLAG);

/**
 * Memory: an idle deframer holds no buffer. A chunk that arrives while nothing is buffered is parsed in place
 * (frames are views of it, no copy); only an incomplete frame's bytes are copied into a buffer of our own, which
 * is dropped again once drained. So thousands of idle links cost nothing here, and the common case (whole frames
 * per TCP read) copies nothing.
 */
export class HdlcDeframer {
  private buf: Uint8Array = EMPTY;
  /** Whether `buf` is ours to append to (false: a caller's chunk or a shared constant, read only). */
  private owned = false;
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

  /** Bytes of buffer this deframer allocated and holds (0 when idle): what an idle link costs here. */
  get capacity(): number {
    return this.owned ? this.buf.length : 0;
  }

  /**
   * The chunk must not be modified afterwards: frames returned by next() may be views of it (an incomplete frame
   * is copied out before next() returns null, so nothing else of it is kept).
   */
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
      if (avail === 0) return this.idle();
      const b = this.buf;
      const s = this.start;
      if (b[s] !== FLAG) return this.resync(0, new DecodeError("bad-flag", "bytes outside an HDLC frame (no 7E flag)"));
      if (avail < 3) return this.idle();
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
      if (avail < total) return this.checkEarly(length) ?? this.idle();
      // A view when parsing a caller's chunk in place (it is never written to); a copy out of our own buffer.
      const frameBytes = this.owned
        ? b.slice(s, s + total)
        : s === 0 && total === b.length
          ? b // the chunk is exactly this frame (the usual case): not even a view
          : b.subarray(s, s + total);
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
    // Nothing pending, or only the previous frame's closing flag while the chunk opens with its own: parse the
    // chunk in place.
    if (live === 0 || (live === 1 && this.buf[this.start] === FLAG && chunk[0] === FLAG)) {
      this.buf = chunk;
      this.owned = false;
      this.start = 0;
      this.end = chunk.length;
      return;
    }
    if (!this.owned || this.end + chunk.length > this.buf.length) {
      const capacity = Math.max(256, 2 ** Math.ceil(Math.log2(live + chunk.length)));
      const target = this.owned && capacity <= this.buf.length ? this.buf : new Uint8Array(capacity);
      target.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = target;
      this.owned = true;
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /**
   * Waiting for more bytes: give back what is no longer needed. Nothing left (or just a closing flag) holds no
   * buffer; an incomplete frame still in a caller's chunk is copied out, since the chunk is not ours to keep.
   */
  private idle(): null {
    const live = this.buffered;
    if (live === 0) {
      this.buf = EMPTY;
      this.owned = false;
      this.start = this.end = 0;
    } else if (live === 1 && this.buf[this.start] === FLAG) {
      this.buf = LONE_FLAG;
      this.owned = false;
      this.start = 0;
      this.end = 1;
    } else if (!this.owned) {
      const copy = new Uint8Array(Math.max(256, 2 ** Math.ceil(Math.log2(live))));
      copy.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = copy;
      this.owned = true;
      this.start = 0;
      this.end = live;
    }
    return null;
  }
}

export function asDecodeError(e: unknown): DecodeError {
  if (e instanceof DecodeError) return e;
  return new DecodeError("malformed", `unexpected decoder failure: ${e instanceof Error ? e.message : String(e)}`);
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, "0").toUpperCase();
}
