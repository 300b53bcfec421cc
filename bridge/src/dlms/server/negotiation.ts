// Server side of association establishment: decides the AARE for an AARQ (62056-5-3 §9.3.2, 62056-6-2 class 15).
// Pure: the caller supplies what the client SAP may use; this returns the answer and, when accepted, the context.
import { timingSafeEqual } from "node:crypto";
import {
  AcseUserDiagnostic,
  confirmedServiceName,
  SERVICE_ERROR_INITIATE,
  serviceErrorClassName,
  serviceErrorName,
} from "../apdu/diagnostics.js";
import type { Aare, Aarq, ConfirmedServiceError, InitiateResponse } from "../apdu/types.js";

export type ClientAuth = { mechanism: "none" } | { mechanism: "low"; password: Uint8Array };

/** The acse-service-user diagnostics this server gives (codes in apdu/diagnostics.ts). */
export type AcseUserDiagnosticName =
  | "null"
  | "no-reason-given"
  | "application-context-name-not-supported"
  | "authentication-mechanism-name-not-recognised"
  | "authentication-mechanism-name-required"
  | "authentication-failure"
  | "authentication-required";

/** ServiceError initiate codes this server gives, carried in a ConfirmedServiceError inside a rejecting AARE. */
const InitiateError = { "dlms-version-too-low": 1, "incompatible-conformance": 2, "pdu-size-too-short": 3 } as const;
export type InitiateErrorName = keyof typeof InitiateError;
const INITIATE_ERROR_SERVICE = 1; // ConfirmedServiceError [1] initiateError

export const DLMS_VERSION = 6;
/** LN referencing (62056-6-2: value name of the Association LN object). */
export const VAA_NAME_LN = 0x0007;
/**
 * Smallest client max-receive-PDU we accept: a GET-Response-with-datablock header takes 12 bytes, so anything
 * smaller could not carry a single byte of data.
 */
export const MIN_CLIENT_PDU_SIZE = 16;
/** A client max-receive-PDU of 0 means "no limit" (62056-5-3); we cap it at the A-XDR Unsigned16 maximum. */
export const UNLIMITED_PDU_SIZE = 0xffff;

export interface NegotiationPolicy {
  /** Authentication required for a client SAP; undefined = this SAP is not served. */
  authFor(clientSap: number): ClientAuth | undefined;
  supportedConformance: number;
  serverMaxReceivePduSize: number;
}

export interface NegotiatedContext {
  clientSap: number;
  mechanism: ClientAuth["mechanism"];
  conformance: number;
  /** Largest APDU the client accepts; larger GET responses go out with block transfer. */
  clientMaxReceivePduSize: number;
}

export type NegotiationOutcome =
  | { accepted: true; aare: Aare; context: NegotiatedContext }
  | { accepted: false; aare: Aare };

export function negotiate(aarq: Aarq, clientSap: number, policy: NegotiationPolicy): NegotiationOutcome {
  if (aarq.applicationContext !== "ln") return reject(aarq, "application-context-name-not-supported");
  const auth = policy.authFor(clientSap);
  if (!auth) return reject(aarq, "no-reason-given");
  const authProblem = checkAuthentication(aarq, auth);
  if (authProblem) return reject(aarq, authProblem);

  const init = aarq.userInformation;
  // A ciphered InitiateRequest is opened by the secure association before it gets here.
  if (init.tag !== "initiate-request") return reject(aarq, "application-context-name-not-supported");
  if (init.proposedDlmsVersion < DLMS_VERSION) return rejectInitiate(aarq, "dlms-version-too-low");
  const conformance = init.proposedConformance & policy.supportedConformance;
  if (conformance === 0) return rejectInitiate(aarq, "incompatible-conformance");
  const clientMax = init.clientMaxReceivePduSize === 0 ? UNLIMITED_PDU_SIZE : init.clientMaxReceivePduSize;
  if (clientMax < MIN_CLIENT_PDU_SIZE) return rejectInitiate(aarq, "pdu-size-too-short");

  const response: InitiateResponse = {
    tag: "initiate-response",
    negotiatedDlmsVersion: DLMS_VERSION,
    negotiatedConformance: conformance,
    serverMaxReceivePduSize: policy.serverMaxReceivePduSize,
    vaaName: VAA_NAME_LN,
  };
  const aare: Aare = {
    tag: "aare",
    applicationContext: "ln",
    result: "accepted",
    diagnostic: userDiagnostic("null"),
    userInformation: response,
  };
  if (auth.mechanism === "low") aare.mechanism = "low";
  return {
    accepted: true,
    aare,
    context: { clientSap, mechanism: auth.mechanism, conformance, clientMaxReceivePduSize: clientMax },
  };
}

/** The AARE a server sends when it refuses every association (fault injection, or a meter in a busy state). */
export function refusingAare(aarq: Aarq, diagnostic: AcseUserDiagnosticName = "no-reason-given"): Aare {
  return reject(aarq, diagnostic).aare;
}

function checkAuthentication(aarq: Aarq, auth: ClientAuth): AcseUserDiagnosticName | undefined {
  const proposed = aarq.mechanism ?? "none";
  if (auth.mechanism === "none") {
    return proposed === "none" ? undefined : "authentication-mechanism-name-not-recognised";
  }
  if (proposed === "none") return "authentication-mechanism-name-required";
  if (proposed !== "low") return "authentication-mechanism-name-not-recognised";
  const given = aarq.authenticationValue;
  if (!given) return "authentication-required";
  return samePassword(given, auth.password) ? undefined : "authentication-failure";
}

/** Constant-time for equal lengths, so the simulator does not teach clients a timing side channel. */
function samePassword(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function reject(aarq: Aarq, diagnostic: AcseUserDiagnosticName): { accepted: false; aare: Aare } {
  return {
    accepted: false,
    aare: {
      tag: "aare",
      applicationContext: aarq.applicationContext,
      result: "rejected-permanent",
      diagnostic: userDiagnostic(diagnostic),
    },
  };
}

function rejectInitiate(aarq: Aarq, error: InitiateErrorName): { accepted: false; aare: Aare } {
  const serviceError: ConfirmedServiceError = {
    tag: "confirmed-service-error",
    service: INITIATE_ERROR_SERVICE,
    serviceName: confirmedServiceName(INITIATE_ERROR_SERVICE),
    errorClass: SERVICE_ERROR_INITIATE,
    errorClassName: serviceErrorClassName(SERVICE_ERROR_INITIATE),
    errorCode: InitiateError[error],
    errorName: serviceErrorName(SERVICE_ERROR_INITIATE, InitiateError[error]),
  };
  const { aare } = reject(aarq, "no-reason-given");
  return { accepted: false, aare: { ...aare, userInformation: serviceError } };
}

function userDiagnostic(name: AcseUserDiagnosticName): Aare["diagnostic"] {
  return { source: "user", code: AcseUserDiagnostic[name]!, name };
}
