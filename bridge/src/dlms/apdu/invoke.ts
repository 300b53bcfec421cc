// Invoke-Id-And-Priority (62056-5-3): bits 0-3 invoke id, bit 6 service class (1 = confirmed), bit 7 priority
// (1 = high). Bits 4-5 are reserved: ignored on decode, zero on encode.
import { LocalProtocolError } from "../errors.js";
import type { InvokeIdAndPriority } from "./types.js";

const INVOKE_ID_MASK = 0x0f;
const CONFIRMED = 0x40;
const HIGH_PRIORITY = 0x80;

export function encodeInvokeIdAndPriority(i: InvokeIdAndPriority): number {
  if (!Number.isInteger(i.invokeId) || i.invokeId < 0 || i.invokeId > INVOKE_ID_MASK) {
    throw new LocalProtocolError(`invoke id ${i.invokeId} is outside 0..15`);
  }
  return i.invokeId | (i.confirmed ? CONFIRMED : 0) | (i.highPriority ? HIGH_PRIORITY : 0);
}

export function decodeInvokeIdAndPriority(b: number): InvokeIdAndPriority {
  return { invokeId: b & INVOKE_ID_MASK, confirmed: (b & CONFIRMED) !== 0, highPriority: (b & HIGH_PRIORITY) !== 0 };
}

/** Hands out invoke ids 0, 1, ... 15, 0, ... so a late reply to an earlier request can be told apart. */
export class InvokeIdCounter {
  private nextId: number;
  private readonly confirmed: boolean;
  private readonly highPriority: boolean;

  constructor(opts: { start?: number; confirmed?: boolean; highPriority?: boolean } = {}) {
    this.nextId = (opts.start ?? 0) & INVOKE_ID_MASK;
    this.confirmed = opts.confirmed ?? true;
    this.highPriority = opts.highPriority ?? true;
  }

  next(): InvokeIdAndPriority {
    const invokeId = this.nextId;
    this.nextId = (invokeId + 1) & INVOKE_ID_MASK;
    return { invokeId, confirmed: this.confirmed, highPriority: this.highPriority };
  }
}
