// GET-Request-Normal whose value is handed on as it arrives: the raw-data of each block goes to `onBytes` at once
// instead of being collected, so a profile buffer of any size is decoded incrementally (cosem/profile-stream.ts).
import type { AttributeRequest } from "../dlms/apdu/types.js";
import { encodeData } from "../dlms/axdr/index.js";
import { ProtocolViolationError } from "./errors.js";
import { dataAccessError, type GetExchange, GetTarget, NextBlock } from "./get-service.js";

/** Rejects with DataAccessError for a data-access-result (of the first or of any later block). */
export async function getStreaming(
  x: GetExchange,
  attribute: AttributeRequest,
  onBytes: (chunk: Uint8Array) => void,
): Promise<void> {
  const what = new GetTarget(attribute);
  // Nothing is collected here, so maxReplyBytes does not apply; the request deadline does.
  const progress = x.begin(what);
  const invoke = x.nextInvoke();
  let response = await x.request({ tag: "get-request", kind: "normal", invoke, attribute }, what, progress);
  if (response.kind === "normal") {
    if (!response.result.ok) throw dataAccessError(response.result.error, attribute);
    onBytes(encodeData(response.result.data)); // one APDU: already bounded by the negotiated PDU size
    return;
  }
  for (;;) {
    if (response.kind !== "with-datablock") {
      throw new ProtocolViolationError("get", `${what}: expected a data block, got a GET-Response-${response.kind}`);
    }
    if (!response.result.ok) throw dataAccessError(response.result.error, attribute);
    progress.blocks++;
    progress.bytes += response.result.raw.length;
    onBytes(response.result.raw);
    if (response.lastBlock) return;
    const expected = response.blockNumber + 1;
    response = await x.request(
      { tag: "get-request", kind: "next", invoke, blockNumber: response.blockNumber },
      new NextBlock(what, expected),
      progress,
    );
    if (response.kind === "with-datablock" && response.blockNumber !== expected) {
      throw new ProtocolViolationError("get", `${what}: expected block ${expected}, got block ${response.blockNumber}`);
    }
  }
}
