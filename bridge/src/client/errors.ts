// Errors of the async client. Each names the step that failed so an operator knows where to look
// (address, password, object list...). DataAccessError (dlms/errors.ts) covers data-access-results.

export type ClientStep = "connect" | "snrm" | "aarq" | "hls" | "get" | "release";

export class ClientError extends Error {
  override name = "ClientError";
  constructor(
    readonly step: ClientStep,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No answer within the per-step timeout. */
export class TimeoutError extends ClientError {
  override name = "TimeoutError";
  constructor(
    step: ClientStep,
    message: string,
    readonly timeoutMs: number,
  ) {
    super(step, message);
  }
}

/** The AARE rejected the association; `diagnostic` is the spec name, e.g. "authentication-failure". */
export class AssociationRejectedError extends ClientError {
  override name = "AssociationRejectedError";
  constructor(
    readonly result: string,
    readonly diagnostic: string,
    readonly diagnosticCode: number,
    detail?: string,
  ) {
    super("aarq", `association rejected (${result}): ${diagnostic} (${diagnosticCode})${detail ? `; ${detail}` : ""}`);
  }
}

/** The transport closed (or failed) while the client still needed it: every pending request gets this. */
export class ConnectionClosedError extends ClientError {
  override name = "ConnectionClosedError";
}

/** The meter answered a request with an ExceptionResponse (service not allowed / not supported...). */
export class ExceptionResponseError extends ClientError {
  override name = "ExceptionResponseError";
  constructor(
    step: ClientStep,
    readonly stateError: string,
    readonly serviceError: string,
    /** With invocation-counter-error: the counter the meter expects. */
    readonly invocationCounter?: number,
  ) {
    super(step, `exception-response: state-error ${stateError}, service-error ${serviceError}`);
  }
}

/** The meter answered with something that does not fit the request (wrong PDU, broken block transfer...). */
export class ProtocolViolationError extends ClientError {
  override name = "ProtocolViolationError";
}

/**
 * One reply grew past the configured bound (block transfer, HDLC segmentation or a wrapper length): the client
 * stops collecting it and drops the association, so the memory it held is returned.
 */
export class ReplyTooLargeError extends ClientError {
  override name = "ReplyTooLargeError";
  constructor(
    step: ClientStep,
    readonly limit: number,
    message: string,
  ) {
    super(step, message);
  }
}

/**
 * A security check failed (HLS-GMAC, ciphered APDUs). `check` says which one, so each cause is a distinct error;
 * messages name the step and the suspect setting, never a key.
 */
export type SecurityCheck =
  | "block-key" // the meter could not decipher our glo-initiateRequest
  | "authentication-key" // the meter deciphered it but the tag did not verify
  | "invocation-counter" // the meter refused our invocation counter as too low
  | "system-title" // the meter's system title is not the configured one
  | "hls-pass-3" // the meter did not accept f(StoC)
  | "hls-pass-4" // the meter's f(CtoS) did not verify
  | "tag-mismatch" // a ciphered reply failed authentication
  | "replayed-counter" // a ciphered reply reused or lowered the meter's invocation counter
  | "not-protected" // a reply came in clear or weaker than the association requires
  | "counter-store"; // our invocation counter could not be reserved (store failure, exhausted)

export class SecurityFailureError extends ClientError {
  override name = "SecurityFailureError";
  constructor(
    step: ClientStep,
    readonly check: SecurityCheck,
    message: string,
    readonly expectedCounter?: number,
  ) {
    super(step, message);
  }
}

/**
 * A request (with all its blocks and segments) outlived its deadline. Unlike the per-step timeout it is not
 * restarted by each block, so a meter that answers forever is still stopped. The association is dropped.
 */
export class RequestDeadlineError extends TimeoutError {
  override name = "RequestDeadlineError";
}
