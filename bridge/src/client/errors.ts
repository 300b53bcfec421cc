// Errors of the async client. Each names the step that failed so an operator knows where to look
// (address, password, object list...). DataAccessError (dlms/errors.ts) covers data-access-results.

export type ClientStep = "connect" | "snrm" | "aarq" | "get" | "release";

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
 * A request (with all its blocks and segments) outlived its deadline. Unlike the per-step timeout it is not
 * restarted by each block, so a meter that answers forever is still stopped. The association is dropped.
 */
export class RequestDeadlineError extends TimeoutError {
  override name = "RequestDeadlineError";
}
