// One-line summaries of APDUs for traces and logs. Authentication values (LLS password, HLS challenges) are
// never printed, only their presence, so a trace can be shared as is.
import type { DlmsData } from "../axdr/types.js";
import { toHex } from "../codec/hex.js";
import { dataAccessResultName } from "./data-access-result.js";
import type {
  Aare,
  Aarq,
  ActionRequest,
  ActionResponse,
  Apdu,
  AttributeRequest,
  ConfirmedServiceError,
  GetDataResult,
  GetRequest,
  GetResponse,
  InitiateRequest,
  InitiateResponse,
  InvokeIdAndPriority,
} from "./types.js";

const MAX_LIST_ITEMS = 4;
const MAX_HEX_BYTES = 16;
const MAX_TEXT_CHARS = 32;

const conformanceHex = (mask: number) => `0x${mask.toString(16).toUpperCase().padStart(6, "0")}`;
const invokeTag = (i: InvokeIdAndPriority) =>
  `#${i.invokeId}${i.confirmed ? "" : " unconfirmed"}${i.highPriority ? "" : " low-priority"}`;

function shortHex(b: Uint8Array): string {
  return toHex(b.subarray(0, MAX_HEX_BYTES), "") + (b.length > MAX_HEX_BYTES ? "…" : "");
}

function list<T>(items: T[], one: (item: T) => string): string {
  const shown = items.slice(0, MAX_LIST_ITEMS).map(one);
  if (items.length > MAX_LIST_ITEMS) shown.push(`+${items.length - MAX_LIST_ITEMS} more`);
  return `[${shown.join(", ")}]`;
}

export function describeAttribute(a: AttributeRequest): string {
  const access = a.access ? ` sel=${a.access.selector}` : "";
  return `${a.classId}/${Array.from(a.instanceId).join(".")}/${a.attributeId}${access}`;
}

/** A short rendering of a Data value: type and value for scalars, type and size for the rest. */
export function describeData(d: DlmsData): string {
  switch (d.type) {
    case "null-data":
    case "dont-care":
      return d.type;
    case "array":
    case "structure":
    case "compact-array":
      return `${d.type}[${d.value.length}]`;
    case "bit-string":
      return `bit-string[${d.value.length}]`;
    case "octet-string":
    case "date-time":
    case "date":
    case "time":
      return `${d.type} ${shortHex(d.value)}`;
    case "visible-string":
    case "utf8-string":
      return `${d.type} ${JSON.stringify(d.value.length > MAX_TEXT_CHARS ? `${d.value.slice(0, MAX_TEXT_CHARS)}…` : d.value)}`;
    default:
      return `${d.type} ${String(d.value)}`;
  }
}

const describeDataAccessResult = (code: number) => `error ${dataAccessResultName(code)} (${code})`;
const describeResult = (r: GetDataResult) => (r.ok ? describeData(r.data) : describeDataAccessResult(r.error));

function describeInitiateRequest(ir: InitiateRequest): string {
  const key = ir.dedicatedKey ? " dedicated-key=<hidden>" : "";
  return `InitiateRequest v${ir.proposedDlmsVersion} conformance=${conformanceHex(ir.proposedConformance)} max-pdu=${ir.clientMaxReceivePduSize}${key}`;
}

function describeInitiateResponse(ir: InitiateResponse): string {
  return `InitiateResponse v${ir.negotiatedDlmsVersion} conformance=${conformanceHex(ir.negotiatedConformance)} max-pdu=${ir.serverMaxReceivePduSize}`;
}

function describeServiceError(e: ConfirmedServiceError): string {
  return `ConfirmedServiceError ${e.serviceName}: ${e.errorClassName}/${e.errorName}`;
}

const CIPHERED_NAMES: Record<number, string> = {
  33: "glo-initiateRequest",
  40: "glo-initiateResponse",
  46: "glo-confirmedServiceError",
};

/** A ciphered user-information: its name, security control and invocation counter (the header is in clear). */
function describeCiphered(bytes: Uint8Array): string {
  const name = CIPHERED_NAMES[bytes[0] ?? 0] ?? "ciphered";
  const lengthBytes = (bytes[1] ?? 0) < 0x80 ? 1 : 1 + ((bytes[1] ?? 0) & 0x7f);
  const sc = bytes[1 + lengthBytes];
  const at = 2 + lengthBytes;
  if (sc === undefined || bytes.length < at + 4) return `${name} ${bytes.length}B`;
  const ic = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
  return `${name} SC=0x${sc.toString(16).padStart(2, "0")} IC=${ic} ${bytes.length}B`;
}

function describeAction(a: ActionRequest | ActionResponse): string {
  if (a.tag === "action-request") {
    const m = a.method;
    return `ACTION.req normal ${invokeTag(a.invoke)} ${m.classId}/${Array.from(m.instanceId).join(".")}/m${m.methodId}${a.parameters ? ` ${a.parameters.type}` : ""}`;
  }
  const ret = a.returnParameters ? ` ${describeResult(a.returnParameters)}` : "";
  return `ACTION.res normal ${invokeTag(a.invoke)} result=${a.result === 0 ? "success" : dataAccessResultName(a.result)}${ret}`;
}

function describeAarq(a: Aarq): string {
  const parts = [`AARQ ${a.applicationContext}`, `mechanism=${a.mechanism ?? "none"}`];
  if (a.authenticationValue) parts.push("auth-value=<hidden>");
  if (a.callingApTitle) parts.push(`calling-ap-title=${shortHex(a.callingApTitle)}`);
  const ui = a.userInformation;
  parts.push(ui.tag === "ciphered-user-information" ? describeCiphered(ui.bytes) : describeInitiateRequest(ui));
  return parts.join(" ");
}

function describeAare(a: Aare): string {
  const d = a.diagnostic;
  const parts = [`AARE ${a.result}`, `${d.source}:${d.code} ${d.name}`];
  if (a.mechanism) parts.push(`mechanism=${a.mechanism}`);
  if (a.respondingAuthenticationValue) parts.push("auth-value=<hidden>");
  const ui = a.userInformation;
  if (a.respondingApTitle) parts.push(`responding-ap-title=${shortHex(a.respondingApTitle)}`);
  if (ui?.tag === "ciphered-user-information") parts.push(describeCiphered(ui.bytes));
  else if (ui) parts.push(ui.tag === "initiate-response" ? describeInitiateResponse(ui) : describeServiceError(ui));
  return parts.join(" ");
}

function describeGetRequest(a: GetRequest): string {
  const head = `GET.req ${a.kind} ${invokeTag(a.invoke)}`;
  switch (a.kind) {
    case "normal":
      return `${head} ${describeAttribute(a.attribute)}`;
    case "next":
      return `${head} block=${a.blockNumber}`;
    case "with-list":
      return `${head} ${list(a.attributes, describeAttribute)}`;
  }
}

function describeGetResponse(a: GetResponse): string {
  const head = `GET.res ${a.kind} ${invokeTag(a.invoke)}`;
  switch (a.kind) {
    case "normal":
      return `${head} ${describeResult(a.result)}`;
    case "with-datablock": {
      const body = a.result.ok ? `${a.result.raw.length} byte(s)` : describeDataAccessResult(a.result.error);
      return `${head} block=${a.blockNumber}${a.lastBlock ? " last" : ""} ${body}`;
    }
    case "with-list":
      return `${head} ${list(a.results, describeResult)}`;
  }
}

const RELEASE_REQUEST_REASONS: Record<number, string> = { 0: "normal", 1: "urgent", 30: "user-defined" };
const RELEASE_RESPONSE_REASONS: Record<number, string> = { 0: "normal", 1: "not-finished", 30: "user-defined" };

function describeReason(reason: number | undefined, names: Record<number, string>): string {
  return reason === undefined ? "" : ` reason=${names[reason] ?? reason}`;
}

export function describeApdu(a: Apdu): string {
  switch (a.tag) {
    case "aarq":
      return describeAarq(a);
    case "aare":
      return describeAare(a);
    case "rlrq":
      return `RLRQ${describeReason(a.reason, RELEASE_REQUEST_REASONS)}${a.userInformation ? ` ${describeInitiateRequest(a.userInformation)}` : ""}`;
    case "rlre":
      return `RLRE${describeReason(a.reason, RELEASE_RESPONSE_REASONS)}${a.userInformation ? ` ${describeInitiateResponse(a.userInformation)}` : ""}`;
    case "initiate-request":
      return describeInitiateRequest(a);
    case "initiate-response":
      return describeInitiateResponse(a);
    case "confirmed-service-error":
      return describeServiceError(a);
    case "get-request":
      return describeGetRequest(a);
    case "get-response":
      return describeGetResponse(a);
    case "action-request":
    case "action-response":
      return describeAction(a);
    case "exception-response":
      return `EXCEPTION ${a.stateErrorName}/${a.serviceErrorName}${a.invocationCounter === undefined ? "" : ` expected-counter=${a.invocationCounter}`}`;
  }
}
