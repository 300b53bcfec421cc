// GET-with-list helpers: split a list so each request fits the server's max PDU, and decode a with-list result
// reassembled from data blocks (SEQUENCE OF Get-Data-Result).
import type { AttributeRequest, GetDataResult, GetRequest, InvokeIdAndPriority } from "../dlms/apdu/types.js";
import { readData, readLength, valueBudget } from "../dlms/axdr/index.js";
import { ByteReader } from "../dlms/codec/reader.js";
import { DecodeError } from "../dlms/errors.js";

/**
 * Greedy split of `attributes` into consecutive chunks whose GET-Request-With-List encoding is at most
 * `maxPduSize` bytes. `encodedSize` measures a request (the real encoder, so the bound is exact).
 */
export function splitForPdu(
  attributes: AttributeRequest[],
  maxPduSize: number,
  encodedSize: (request: GetRequest) => number,
): AttributeRequest[][] {
  const invoke: InvokeIdAndPriority = { invokeId: 0, confirmed: true, highPriority: true };
  const chunks: AttributeRequest[][] = [];
  let current: AttributeRequest[] = [];
  for (const attribute of attributes) {
    const candidate = [...current, attribute];
    const size = encodedSize({ tag: "get-request", kind: "with-list", invoke, attributes: candidate });
    if (size <= maxPduSize || current.length === 0) current = candidate;
    else {
      chunks.push(current);
      current = [attribute];
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * splitForPdu remembered per list: a poller sends the same list object every poll (client/reads.ts), and measuring
 * each candidate chunk with the real encoder costs more than the request itself. Reused only for the same PDU
 * size and the same elements (a list edited in place is measured again).
 */
const splits = new WeakMap<readonly AttributeRequest[], { maxPduSize: number; chunks: AttributeRequest[][] }>();

export function splitForPduOnce(
  attributes: AttributeRequest[],
  maxPduSize: number,
  encodedSize: (request: GetRequest) => number,
): AttributeRequest[][] {
  const known = splits.get(attributes);
  if (known && known.maxPduSize === maxPduSize && sameElements(attributes, known.chunks)) return known.chunks;
  const chunks = splitForPdu(attributes, maxPduSize, encodedSize);
  splits.set(attributes, { maxPduSize, chunks });
  return chunks;
}

function sameElements(attributes: readonly AttributeRequest[], chunks: readonly AttributeRequest[][]): boolean {
  let i = 0;
  for (const chunk of chunks) for (const a of chunk) if (attributes[i++] !== a) return false;
  return i === attributes.length;
}

/** Decodes the raw-data of a block-transferred GET-Response-With-List: a counted list of Get-Data-Result. */
export function decodeGetDataResultList(raw: Uint8Array): GetDataResult[] {
  const r = new ByteReader(raw);
  const count = readLength(r);
  const results: GetDataResult[] = [];
  const budget = valueBudget(); // one bound for the whole reply, not per result
  for (let i = 0; i < count; i++) {
    const at = r.offset;
    const choice = r.readUInt8("Get-Data-Result choice");
    if (choice === 0) results.push({ ok: true, data: readData(r, 0, budget) });
    else if (choice === 1) results.push({ ok: false, error: r.readUInt8("data-access-result") });
    else throw new DecodeError("malformed", `Get-Data-Result choice ${choice} at offset ${at} (expected 0 or 1)`, at);
  }
  if (r.isMore())
    throw new DecodeError("malformed", `${r.remaining} trailing byte(s) after ${count} Get-Data-Result(s)`);
  return results;
}
