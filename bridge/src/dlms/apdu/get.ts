// GET service PDUs (62056-5-3): Get-Request [192] and Get-Response [196], each a CHOICE of normal / next or
// with-datablock / with-list. Readers start after the APDU tag byte.
import { readData, readLength, writeData, writeLength } from "../axdr/index.js";
import type { ByteReader } from "../codec/reader.js";
import type { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { MIN_ATTRIBUTE_REQUEST_SIZE, readAttributeRequest, writeAttributeRequest } from "./attribute.js";
import { writeU8, writeU32 } from "./fields.js";
import { decodeInvokeIdAndPriority, encodeInvokeIdAndPriority } from "./invoke.js";
import { ApduTag, type GetDataResult, type GetRequest, type GetResponse } from "./types.js";

export const GetRequestType = { normal: 1, next: 2, "with-list": 3 } as const;
export const GetResponseType = { normal: 1, "with-datablock": 2, "with-list": 3 } as const;

/** Get-Data-Result / DataBlock-G result CHOICE: 0 = data (or raw-data), 1 = data-access-result. */
const RESULT_DATA = 0;
const RESULT_ERROR = 1;
/** Smallest Get-Data-Result: choice byte + one byte of data or error. */
const MIN_RESULT_SIZE = 2;

function readChoice(r: ByteReader, what: string, max: number): number {
  const at = r.offset;
  const choice = r.readUInt8(what);
  if (choice > max) throw new DecodeError("malformed", `${what} ${choice} at offset ${at}`, at);
  return choice;
}

function readResultChoice(r: ByteReader, what: string): boolean {
  return readChoice(r, what, RESULT_ERROR) === RESULT_DATA;
}

/** SEQUENCE OF count, refused before any allocation when the bytes left cannot hold that many items. */
function readCount(r: ByteReader, what: string, minItemSize: number): number {
  const at = r.offset;
  const n = readLength(r);
  if (n * minItemSize > r.remaining) {
    throw new DecodeError("truncated", `${what}: ${n} item(s) cannot fit in ${r.remaining} byte(s)`, at);
  }
  return n;
}

/** CHOICE index of a kind, refusing kinds that are not in the table (a caller bypassing the types). */
function choiceIndex(table: Readonly<Record<string, number>>, kind: string, what: string): number {
  const index = table[kind];
  if (index === undefined) throw new LocalProtocolError(`unknown ${what} kind "${kind}"`);
  return index;
}

// ---- Get-Request ----

export function writeGetRequest(w: ByteWriter, a: GetRequest): void {
  w.writeUInt8(ApduTag.getRequest).writeUInt8(choiceIndex(GetRequestType, a.kind, "get-request"));
  w.writeUInt8(encodeInvokeIdAndPriority(a.invoke));
  switch (a.kind) {
    case "normal":
      writeAttributeRequest(w, a.attribute);
      return;
    case "next":
      writeU32(w, a.blockNumber, "block-number");
      return;
    case "with-list":
      writeLength(w, a.attributes.length);
      for (const attribute of a.attributes) writeAttributeRequest(w, attribute);
      return;
  }
}

export function readGetRequest(r: ByteReader): GetRequest {
  const kind = readChoice(r, "get-request type", GetRequestType["with-list"]);
  const invoke = decodeInvokeIdAndPriority(r.readUInt8("invoke-id-and-priority"));
  switch (kind) {
    case GetRequestType.normal:
      return { tag: "get-request", kind: "normal", invoke, attribute: readAttributeRequest(r) };
    case GetRequestType.next:
      return { tag: "get-request", kind: "next", invoke, blockNumber: r.readUInt32("block-number") };
    case GetRequestType["with-list"]: {
      const n = readCount(r, "attribute-descriptor-list", MIN_ATTRIBUTE_REQUEST_SIZE);
      const attributes = Array.from({ length: n }, () => readAttributeRequest(r));
      return { tag: "get-request", kind: "with-list", invoke, attributes };
    }
    default:
      throw new DecodeError("malformed", `get-request type ${kind}`, r.offset);
  }
}

// ---- Get-Response ----

export function writeGetDataResult(w: ByteWriter, result: GetDataResult): void {
  if (result.ok) {
    w.writeUInt8(RESULT_DATA);
    writeData(w, result.data);
  } else {
    w.writeUInt8(RESULT_ERROR);
    writeU8(w, result.error, "data-access-result");
  }
}

export function readGetDataResult(r: ByteReader): GetDataResult {
  return readResultChoice(r, "get-data-result choice")
    ? { ok: true, data: readData(r) }
    : { ok: false, error: r.readUInt8("data-access-result") };
}

export function writeGetResponse(w: ByteWriter, a: GetResponse): void {
  w.writeUInt8(ApduTag.getResponse).writeUInt8(choiceIndex(GetResponseType, a.kind, "get-response"));
  w.writeUInt8(encodeInvokeIdAndPriority(a.invoke));
  switch (a.kind) {
    case "normal":
      writeGetDataResult(w, a.result);
      return;
    case "with-datablock":
      w.writeUInt8(a.lastBlock ? 1 : 0);
      writeU32(w, a.blockNumber, "block-number");
      if (a.result.ok) {
        w.writeUInt8(RESULT_DATA);
        writeLength(w, a.result.raw.length);
        w.writeBytes(a.result.raw);
      } else {
        w.writeUInt8(RESULT_ERROR);
        writeU8(w, a.result.error, "data-access-result");
      }
      return;
    case "with-list":
      writeLength(w, a.results.length);
      for (const result of a.results) writeGetDataResult(w, result);
      return;
  }
}

export function readGetResponse(r: ByteReader): GetResponse {
  const kind = readChoice(r, "get-response type", GetResponseType["with-list"]);
  const invoke = decodeInvokeIdAndPriority(r.readUInt8("invoke-id-and-priority"));
  switch (kind) {
    case GetResponseType.normal:
      return { tag: "get-response", kind: "normal", invoke, result: readGetDataResult(r) };
    case GetResponseType["with-datablock"]: {
      const lastBlock = r.readUInt8("last-block") !== 0;
      const blockNumber = r.readUInt32("block-number");
      const result: Extract<GetResponse, { kind: "with-datablock" }>["result"] = readResultChoice(
        r,
        "datablock result choice",
      )
        ? { ok: true, raw: r.readBytes(readLength(r), "raw-data").slice() }
        : { ok: false, error: r.readUInt8("data-access-result") };
      return { tag: "get-response", kind: "with-datablock", invoke, lastBlock, blockNumber, result };
    }
    case GetResponseType["with-list"]: {
      const n = readCount(r, "get-data-result list", MIN_RESULT_SIZE);
      const results = Array.from({ length: n }, () => readGetDataResult(r));
      return { tag: "get-response", kind: "with-list", invoke, results };
    }
    default:
      throw new DecodeError("malformed", `get-response type ${kind}`, r.offset);
  }
}
