// Incremental decoder of a Profile Generic buffer (array of structures) fed with the raw-data of GET blocks as they
// arrive: complete entries come out at once and only the undecoded tail (less than one entry plus one block) is
// kept, so a year of 15-minute rows is never held as one value.

import { readData } from "../axdr/decode.js";
import type { DlmsData } from "../axdr/types.js";
import { ByteReader } from "../codec/reader.js";
import { DecodeError, SizeLimitError } from "../errors.js";

const ARRAY_TAG = 0x01;
const STRUCTURE_TAG = 0x02;

/** A-XDR length at `at`, or undefined when the bytes end inside it. */
function tryLength(b: Uint8Array, at: number): { n: number; size: number } | undefined {
  if (at >= b.length) return undefined;
  const first = b[at]!;
  if (first < 0x80) return { n: first, size: 1 };
  const size = first & 0x7f;
  if (size === 0 || size > 4) throw new DecodeError("malformed", `buffer: bad length byte 0x${first.toString(16)}`, at);
  if (at + 1 + size > b.length) return undefined;
  let n = 0;
  for (let i = 1; i <= size; i++) n = n * 256 + b[at + i]!;
  return { n, size: 1 + size };
}

/**
 * Largest entry accepted. Rows are tens of bytes; without a bound, an entry that claims a huge string (or a meter
 * that never sends the rest of it) would make the kept tail grow with every block until the request deadline.
 */
export const MAX_ENTRY_BYTES = 256 * 1024;

export class ProfileBufferDecoder {
  private pending: Uint8Array = new Uint8Array(0);
  private total: number | undefined;
  private done = 0;

  /** `columns`: entries must have exactly this many values (the capture objects, or the selected columns). */
  constructor(
    private readonly columns?: number,
    private readonly maxEntryBytes = MAX_ENTRY_BYTES,
  ) {}

  /** Entries announced by the array header (undefined until it arrived). */
  get announced(): number | undefined {
    return this.total;
  }

  get decoded(): number {
    return this.done;
  }

  /** Feeds the next bytes; returns the entries completed by them, oldest first. */
  push(chunk: Uint8Array): DlmsData[][] {
    this.pending = this.pending.length === 0 ? chunk : concat(this.pending, chunk);
    let at = 0;
    if (this.total === undefined) {
      if (this.pending.length === 0) return [];
      if (this.pending[0] !== ARRAY_TAG) {
        throw new DecodeError("malformed", `buffer: expected an array (tag 01), got tag ${hex(this.pending[0]!)}`, 0);
      }
      const length = tryLength(this.pending, 1);
      if (!length) return [];
      this.total = length.n;
      at = 1 + length.size;
    }
    const rows: DlmsData[][] = [];
    while (this.done < this.total && at < this.pending.length) {
      const r = new ByteReader(this.pending.subarray(at));
      let entry: DlmsData;
      try {
        entry = readData(r, 1);
      } catch (error) {
        if (error instanceof DecodeError && error.code === "truncated") break; // the rest comes in the next block
        throw error;
      }
      rows.push(this.checkEntry(entry));
      at += r.offset;
      this.done++;
    }
    if (this.done === this.total && at < this.pending.length) {
      throw new DecodeError("malformed", `buffer: ${this.pending.length - at} byte(s) after entry ${this.done}`, at);
    }
    this.pending = this.pending.slice(at);
    if (this.pending.length > this.maxEntryBytes) {
      throw new SizeLimitError(
        this.maxEntryBytes,
        this.pending.length,
        `buffer[${this.done}]: entry still incomplete after ${this.pending.length} bytes (more than ${this.maxEntryBytes})`,
      );
    }
    return rows;
  }

  /** The stream ended: every announced entry must have come, with nothing left over. */
  finish(): void {
    if (this.total === undefined) throw new DecodeError("truncated", "buffer: the array header never arrived");
    if (this.done < this.total || this.pending.length > 0) {
      throw new DecodeError("truncated", `buffer: ${this.done} of ${this.total} entries arrived`);
    }
  }

  private checkEntry(entry: DlmsData): DlmsData[] {
    if (entry.type !== "structure") {
      throw new DecodeError(
        "malformed",
        `buffer[${this.done}]: expected a structure (tag ${hex(STRUCTURE_TAG)}), got ${entry.type}`,
      );
    }
    if (this.columns !== undefined && entry.value.length !== this.columns) {
      throw new DecodeError(
        "malformed",
        `buffer[${this.done}]: ${entry.value.length} value(s), expected ${this.columns} (one per column)`,
      );
    }
    return entry.value;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

const hex = (b: number) => b.toString(16).padStart(2, "0");
