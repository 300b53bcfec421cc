// Convenience constructors for the PDUs the client and the simulator build most: they fill in the fixed parts
// (LN context, DLMS version 6, vaa-name, diagnostic names) so callers only state what varies.
import { LocalProtocolError } from "../errors.js";
import { acseDiagnosticName, SERVICE_ERROR_INITIATE } from "./diagnostics.js";
import { confirmedServiceError, DLMS_VERSION, VAA_NAME_LN } from "./initiate.js";
import type {
  Aare,
  Aarq,
  AssociationResult,
  AuthenticationMechanism,
  InitiateRequest,
  InitiateResponse,
} from "./types.js";

/** ConfirmedService index of initiateError, the service named when an AARE rejects the InitiateRequest. */
const SERVICE_INITIATE_ERROR = 1;

export function buildInitiateRequest(opts: { conformance: number; maxReceivePduSize: number }): InitiateRequest {
  return {
    tag: "initiate-request",
    responseAllowed: true,
    proposedDlmsVersion: DLMS_VERSION,
    proposedConformance: opts.conformance,
    clientMaxReceivePduSize: opts.maxReceivePduSize,
  };
}

export function buildInitiateResponse(opts: { conformance: number; maxReceivePduSize: number }): InitiateResponse {
  return {
    tag: "initiate-response",
    negotiatedDlmsVersion: DLMS_VERSION,
    negotiatedConformance: opts.conformance,
    serverMaxReceivePduSize: opts.maxReceivePduSize,
    vaaName: VAA_NAME_LN,
  };
}

/** AARQ for an LN association without ciphering: no authentication, or LLS with `password` (SECRET). */
export function buildAarq(opts: {
  mechanism: "none" | "low";
  password?: Uint8Array;
  conformance: number;
  maxReceivePduSize: number;
  callingApTitle?: Uint8Array;
}): Aarq & { userInformation: InitiateRequest } {
  const aarq: Aarq & { userInformation: InitiateRequest } = {
    tag: "aarq",
    applicationContext: "ln",
    userInformation: buildInitiateRequest(opts),
  };
  if (opts.callingApTitle) aarq.callingApTitle = opts.callingApTitle;
  if (opts.mechanism === "low") {
    if (!opts.password || opts.password.length === 0)
      throw new LocalProtocolError("low-level security needs a password");
    aarq.mechanism = "low";
    aarq.authenticationValue = opts.password;
  }
  return aarq;
}

/**
 * AARE for an LN association. Accepted: give conformance and maxReceivePduSize (an InitiateResponse is added).
 * Rejected: no user-information, unless `initiateError` (a ServiceError "initiate" code, e.g. 1
 * dlms-version-too-low) asks for a ConfirmedServiceError.
 */
export function buildAare(opts: {
  result: AssociationResult;
  diagnostic: { source: "user" | "provider"; code: number };
  conformance?: number;
  maxReceivePduSize?: number;
  mechanism?: AuthenticationMechanism;
  initiateError?: number;
}): Aare {
  const { source, code } = opts.diagnostic;
  const aare: Aare = {
    tag: "aare",
    applicationContext: "ln",
    result: opts.result,
    diagnostic: { source, code, name: acseDiagnosticName(source, code) },
  };
  if (opts.mechanism) aare.mechanism = opts.mechanism;
  if (opts.initiateError !== undefined) {
    aare.userInformation = confirmedServiceError(SERVICE_INITIATE_ERROR, SERVICE_ERROR_INITIATE, opts.initiateError);
  } else if (opts.result === "accepted") {
    if (opts.conformance === undefined || opts.maxReceivePduSize === undefined) {
      throw new LocalProtocolError("an accepting AARE needs conformance and maxReceivePduSize");
    }
    aare.userInformation = buildInitiateResponse({
      conformance: opts.conformance,
      maxReceivePduSize: opts.maxReceivePduSize,
    });
  }
  return aare;
}
