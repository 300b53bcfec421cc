// xDLMS / ACSE APDUs as values (Green Book 62056-5-3). One TAG per PDU; encodeApdu/decodeApdu in apdu/index.ts
// serve both roles. Ciphered APDUs (glo-/ded-) are a later addition: the union below gets new members and the
// association gets a security context; nothing here assumes plaintext beyond the tags implemented today.

import type { DlmsData } from "../axdr/types.js";

export const ApduTag = {
  aarq: 0x60,
  aare: 0x61,
  rlrq: 0x62,
  rlre: 0x63,
  initiateRequest: 0x01,
  initiateResponse: 0x08,
  confirmedServiceError: 0x0e,
  getRequest: 0xc0,
  setRequest: 0xc1,
  actionRequest: 0xc3,
  getResponse: 0xc4,
  setResponse: 0xc5,
  actionResponse: 0xc7,
  exceptionResponse: 0xd8,
} as const;

/** 6-byte logical name (OBIS value group A..F). cosem/obis.ts parses and formats it. */
export type LogicalName = Uint8Array;

export interface AttributeDescriptor {
  classId: number;
  instanceId: LogicalName;
  attributeId: number; // signed int8 on the wire
}

export interface SelectiveAccess {
  selector: number;
  parameters: DlmsData;
}

export interface AttributeRequest extends AttributeDescriptor {
  access?: SelectiveAccess;
}

/** Invoke-Id-And-Priority byte: bits 0-3 invoke id, bit 6 service-class (1 = confirmed), bit 7 priority (1 = high). */
export interface InvokeIdAndPriority {
  invokeId: number; // 0..15
  confirmed: boolean;
  highPriority: boolean;
}

export type AuthenticationMechanism =
  | "none"
  | "low"
  | "high"
  | "high-md5"
  | "high-sha1"
  | "high-gmac"
  | "high-sha256"
  | "high-ecdsa";
export type ApplicationContext = "ln" | "sn" | "ln-ciphered" | "sn-ciphered";

export interface InitiateRequest {
  tag: "initiate-request";
  dedicatedKey?: Uint8Array;
  responseAllowed: boolean; // default true
  proposedQualityOfService?: number;
  proposedDlmsVersion: number; // 6
  proposedConformance: number; // 24-bit mask, see apdu/conformance.ts
  clientMaxReceivePduSize: number;
}

export interface InitiateResponse {
  tag: "initiate-response";
  negotiatedQualityOfService?: number;
  negotiatedDlmsVersion: number;
  negotiatedConformance: number;
  serverMaxReceivePduSize: number;
  vaaName: number; // 0x0007 for LN
}

export interface ConfirmedServiceError {
  tag: "confirmed-service-error";
  /** e.g. "initiateError" (1), "read" (5)… */
  service: number;
  serviceName: string;
  errorClass: number; // ServiceError CHOICE index, e.g. 6 = initiate
  errorClassName: string;
  errorCode: number;
  errorName: string; // e.g. "dlms-version-too-low"
}

/**
 * A ciphered xDLMS APDU carried in ACSE user-information (glo-initiateRequest 0x21, glo-initiateResponse 0x28,
 * glo-confirmedServiceError 0x2E): the raw bytes, tag included; dlms/security opens them.
 */
export interface CipheredUserInformation {
  tag: "ciphered-user-information";
  bytes: Uint8Array;
}

export interface Aarq {
  tag: "aarq";
  applicationContext: ApplicationContext;
  callingApTitle?: Uint8Array; // needed for HLS/ciphering later
  mechanism?: AuthenticationMechanism; // absent = none
  authenticationValue?: Uint8Array; // LLS password / HLS challenge. SECRET: never log.
  userInformation: InitiateRequest | CipheredUserInformation;
}

export type AssociationResult = "accepted" | "rejected-permanent" | "rejected-transient";

export interface Aare {
  tag: "aare";
  applicationContext: ApplicationContext;
  result: AssociationResult;
  /** result-source-diagnostic: acse-service-user (1) or acse-service-provider (2) with its code and name. */
  diagnostic: { source: "user" | "provider"; code: number; name: string };
  respondingApTitle?: Uint8Array;
  mechanism?: AuthenticationMechanism;
  respondingAuthenticationValue?: Uint8Array;
  userInformation?: InitiateResponse | ConfirmedServiceError | CipheredUserInformation;
}

export interface Rlrq {
  tag: "rlrq";
  reason?: number; // 0 normal
  userInformation?: InitiateRequest;
}

export interface Rlre {
  tag: "rlre";
  reason?: number;
  userInformation?: InitiateResponse;
}

export type GetRequest =
  | { tag: "get-request"; kind: "normal"; invoke: InvokeIdAndPriority; attribute: AttributeRequest }
  | { tag: "get-request"; kind: "next"; invoke: InvokeIdAndPriority; blockNumber: number }
  | { tag: "get-request"; kind: "with-list"; invoke: InvokeIdAndPriority; attributes: AttributeRequest[] };

/** Get-Data-Result: data, or a data-access-result code (see apdu/data-access-result.ts for names). */
export type GetDataResult = { ok: true; data: DlmsData } | { ok: false; error: number };

export type GetResponse =
  | { tag: "get-response"; kind: "normal"; invoke: InvokeIdAndPriority; result: GetDataResult }
  | {
      tag: "get-response";
      kind: "with-datablock";
      invoke: InvokeIdAndPriority;
      lastBlock: boolean;
      blockNumber: number;
      /** raw-data (octet string, a slice of the encoded result) or a data-access-result. */
      result: { ok: true; raw: Uint8Array } | { ok: false; error: number };
    }
  | { tag: "get-response"; kind: "with-list"; invoke: InvokeIdAndPriority; results: GetDataResult[] };

/** Cosem-Method-Descriptor: class, logical name, method id. */
export interface MethodDescriptor {
  classId: number;
  instanceId: LogicalName;
  methodId: number; // signed int8 on the wire
}

/** Action-Request-Normal (the only ACTION the client needs: HLS pass 3 on the Association LN object). */
export interface ActionRequest {
  tag: "action-request";
  kind: "normal";
  invoke: InvokeIdAndPriority;
  method: MethodDescriptor;
  parameters?: DlmsData;
}

/** Action-Response-Normal: Action-Result (data-access-result codes) and optional return parameters. */
export interface ActionResponse {
  tag: "action-response";
  kind: "normal";
  invoke: InvokeIdAndPriority;
  result: number; // 0 success
  returnParameters?: GetDataResult;
}

export interface ExceptionResponse {
  tag: "exception-response";
  stateError: number; // 1 service-not-allowed, 2 service-unknown
  stateErrorName: string;
  serviceError: number; // 1 operation-not-possible, 2 service-not-supported, 3 other-reason, ...
  serviceErrorName: string;
  /** Only with service-error 6 (invocation-counter-error): the counter value the server expects. */
  invocationCounter?: number;
}

export type Apdu =
  | Aarq
  | Aare
  | Rlrq
  | Rlre
  | InitiateRequest
  | InitiateResponse
  | ConfirmedServiceError
  | GetRequest
  | GetResponse
  | ActionRequest
  | ActionResponse
  | ExceptionResponse;
