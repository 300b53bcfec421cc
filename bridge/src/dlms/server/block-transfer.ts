// GET block transfer, server side (62056-5-3 §9.4.6.3): a response longer than the client's max PDU is sent as
// GET-Response-with-datablock, one block per GET-Request-Next; the client acknowledges block n by asking for n.

import { DataAccessResult } from "../apdu/data-access-result.js";
import type { GetDataResult, GetResponse, InvokeIdAndPriority } from "../apdu/types.js";
import { encodeData, writeData } from "../axdr/index.js";
import { writeLength } from "../axdr/length.js";
import { ByteWriter } from "../codec/writer.js";

/**
 * Bytes of a GET-Response-with-datablock around its raw data: tag, kind, invoke-id, last-block, block-number (4),
 * result choice and a raw-data length of up to 3 bytes (0x82 hi lo).
 */
export const DATABLOCK_OVERHEAD = 12;
/** Tag, kind, invoke-id and the Get-Data-Result choice of a GET-Response-Normal. */
const NORMAL_OVERHEAD = 4;

/** The encoded body of a GET response, ready to be sent whole or cut into blocks. */
export interface EncodedResult {
  /** The bytes block transfer would carry (the Data for normal, the SEQUENCE OF Get-Data-Result for with-list). */
  raw: Uint8Array;
  /** Size of the complete single-PDU response. */
  pduSize: number;
}

export function encodeNormalResult(data: Parameters<typeof encodeData>[0]): EncodedResult {
  const raw = encodeData(data);
  return { raw, pduSize: NORMAL_OVERHEAD + raw.length };
}

export function encodeListResults(results: readonly GetDataResult[]): EncodedResult {
  const w = new ByteWriter(256);
  writeLength(w, results.length);
  for (const result of results) {
    if (result.ok) {
      w.writeUInt8(0);
      writeData(w, result.data);
    } else {
      w.writeUInt8(1).writeUInt8(result.error);
    }
  }
  const raw = w.toBytes();
  return { raw, pduSize: 3 + raw.length };
}

/** One long GET in progress: the raw bytes and the last block number sent. */
export class LongGet {
  private lastSent = 0;

  constructor(
    private readonly invoke: InvokeIdAndPriority,
    private readonly raw: Uint8Array,
    private readonly blockSize: number,
  ) {}

  get blocksSent(): number {
    return this.lastSent;
  }

  get finished(): boolean {
    return this.lastSent * this.blockSize >= this.raw.length;
  }

  /** The first block (number 1). */
  first(): GetResponse {
    return this.nextBlock(this.invoke);
  }

  /**
   * Answers GET-Request-Next. A block number other than the last one sent aborts the transfer (long-get-aborted);
   * the caller then drops this LongGet.
   */
  next(invoke: InvokeIdAndPriority, acknowledged: number): { response: GetResponse; aborted: boolean } {
    if (acknowledged !== this.lastSent || this.finished) {
      return { response: abortedBlock(invoke, acknowledged), aborted: true };
    }
    return { response: this.nextBlock(invoke), aborted: false };
  }

  private nextBlock(invoke: InvokeIdAndPriority): GetResponse {
    const start = this.lastSent * this.blockSize;
    const end = Math.min(start + this.blockSize, this.raw.length);
    this.lastSent += 1;
    return {
      tag: "get-response",
      kind: "with-datablock",
      invoke,
      lastBlock: end >= this.raw.length,
      blockNumber: this.lastSent,
      result: { ok: true, raw: this.raw.subarray(start, end) },
    };
  }
}

export function abortedBlock(
  invoke: InvokeIdAndPriority,
  blockNumber: number,
  error: number = DataAccessResult["long-get-aborted"],
): GetResponse {
  return {
    tag: "get-response",
    kind: "with-datablock",
    invoke,
    lastBlock: true,
    blockNumber,
    result: { ok: false, error },
  };
}
