// The GET procedures on top of one request/response exchange: Normal, With-List and block transfer
// (GET-Request-Next until the last block, then decode the reassembled raw-data).
import { dataAccessResultName } from "../dlms/apdu/data-access-result.js";
import type {
  AttributeRequest,
  GetDataResult,
  GetRequest,
  GetResponse,
  InvokeIdAndPriority,
} from "../dlms/apdu/types.js";
import { decodeDataLenient } from "../dlms/axdr/index.js";
import { joinBytes } from "../dlms/codec/bytes.js";
import { formatObis } from "../dlms/cosem/obis.js";
import { DataAccessError, DecodeError, type DlmsError } from "../dlms/errors.js";
import { ProtocolViolationError, ReplyTooLargeError } from "./errors.js";
import { decodeGetDataResultList } from "./get-list.js";
import { LazyText, type What } from "./what.js";

/** One GET procedure in progress (first request, then each block): what bounds it and how far it got. */
export interface RequestProgress {
  readonly what: What;
  /** Date.now() value after which no further wait is allowed. */
  readonly deadlineAt: number;
  blocks: number;
  /** Raw-data bytes of the blocks received so far. */
  bytes: number;
}

/** What the GET procedures need from the client. */
export interface GetExchange {
  /** Starts the deadline of one GET procedure. */
  begin(what: What): RequestProgress;
  /** Sends the request and resolves with the GET response carrying its invoke id, within the deadline. */
  request(request: GetRequest, what: What, progress: RequestProgress): Promise<GetResponse>;
  /** Bound on the raw-data of all blocks together. */
  readonly maxReplyBytes: number;
  nextInvoke(): InvokeIdAndPriority;
  /** Something was ignored on the way (trailing bytes): counted and logged by the caller. */
  warn(error: DlmsError): void;
}

type DataBlock = Extract<GetResponse, { kind: "with-datablock" }>;

/** GET-Request-Normal, following block transfer; a data-access-result comes back as { ok: false }. */
export async function getNormal(x: GetExchange, attribute: AttributeRequest): Promise<GetDataResult> {
  const what = new GetTarget(attribute);
  const progress = x.begin(what);
  const invoke = x.nextInvoke();
  const response = await x.request({ tag: "get-request", kind: "normal", invoke, attribute }, what, progress);
  if (response.kind === "normal") return response.result;
  if (response.kind === "with-list") throw new ProtocolViolationError("get", `${what} answered with a With-List`);
  const raw = await collectBlocks(x, response, invoke, progress);
  if (!raw.ok) return raw;
  const { data, trailing } = decodeOrViolation(() => decodeDataLenient(raw.bytes), what);
  warnTrailing(x, trailing, what);
  return { ok: true, data };
}

/** GET-Request-With-List (the caller checked multiple-references and the PDU size); one result per attribute. */
export async function getWithList(x: GetExchange, attributes: AttributeRequest[]): Promise<GetDataResult[]> {
  const what = `GET-with-list of ${attributes.length}`;
  const progress = x.begin(what);
  const invoke = x.nextInvoke();
  const response = await x.request({ tag: "get-request", kind: "with-list", invoke, attributes }, what, progress);
  let results: GetDataResult[];
  if (response.kind === "with-list") results = response.results;
  else if (response.kind === "with-datablock") {
    const raw = await collectBlocks(x, response, invoke, progress);
    if (!raw.ok) return attributes.map(() => ({ ok: false, error: raw.error }));
    results = decodeOrViolation(() => decodeGetDataResultList(raw.bytes), what);
  } else throw new ProtocolViolationError("get", `${what} answered with a GET-Response-Normal`);
  if (results.length !== attributes.length) {
    throw new ProtocolViolationError("get", `${what} answered with ${results.length} result(s)`);
  }
  return results;
}

/**
 * GET-Request-Next until the last block; the raw-data of all blocks, or the data-access-result of a block.
 * The blocks together may not exceed maxReplyBytes, and the whole transfer shares the request's deadline.
 */
async function collectBlocks(
  x: GetExchange,
  first: DataBlock,
  invoke: InvokeIdAndPriority,
  progress: RequestProgress,
): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; error: number }> {
  const { what } = progress;
  const parts: Uint8Array[] = [];
  let block = first;
  for (;;) {
    if (!block.result.ok) return { ok: false, error: block.result.error };
    progress.blocks++;
    progress.bytes += block.result.raw.length;
    if (progress.bytes > x.maxReplyBytes) {
      throw new ReplyTooLargeError(
        "get",
        x.maxReplyBytes,
        `reply to ${what} larger than ${x.maxReplyBytes} bytes: ${progress.bytes} bytes in ${progress.blocks} block(s) so far`,
      );
    }
    parts.push(block.result.raw);
    if (block.lastBlock) return { ok: true, bytes: joinBytes(parts) };
    const expected = block.blockNumber + 1;
    const next = await x.request(
      { tag: "get-request", kind: "next", invoke, blockNumber: block.blockNumber },
      new NextBlock(what, expected),
      progress,
    );
    if (next.kind !== "with-datablock" || next.blockNumber !== expected) {
      const got = next.kind === "with-datablock" ? `block ${next.blockNumber}` : `a GET-Response-${next.kind}`;
      throw new ProtocolViolationError("get", `${what}: expected block ${expected}, got ${got}`);
    }
    block = next;
  }
}

/** "GET 1.0.32.7.0.255 class 3 attr 2", formatted only if a message or trace asks for it. */
export class GetTarget extends LazyText {
  constructor(private readonly attribute: AttributeRequest) {
    super();
  }

  protected build(): string {
    return `GET ${describeTarget(this.attribute)}`;
  }
}

/** "<what> (block 3)": the GET-Request-Next for a block, described on demand too. */
export class NextBlock extends LazyText {
  constructor(
    private readonly of: What,
    private readonly block: number,
  ) {
    super();
  }

  protected build(): string {
    return `${this.of} (block ${this.block})`;
  }
}

export function describeTarget(attribute: AttributeRequest): string {
  return `${formatObis(attribute.instanceId)} class ${attribute.classId} attr ${attribute.attributeId}`;
}

export function dataAccessError(code: number, attribute: AttributeRequest): DataAccessError {
  return new DataAccessError(code, dataAccessResultName(code), describeTarget(attribute));
}

function warnTrailing(x: GetExchange, trailing: Uint8Array, what: What): void {
  // Seen in the field (a value followed by garbage): keep the value, surface the rest.
  if (trailing.length > 0) {
    x.warn(new DecodeError("malformed", `${trailing.length} trailing byte(s) after the value of ${what} ignored`));
  }
}

function decodeOrViolation<T>(decode: () => T, what: What): T {
  try {
    return decode();
  } catch (error) {
    throw new ProtocolViolationError(
      "get",
      `undecodable value for ${what}: ${error instanceof Error ? error.message : error}`,
    );
  }
}
