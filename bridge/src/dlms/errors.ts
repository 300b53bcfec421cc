// Typed errors of the DLMS core. Every malformed input becomes one of these, never a bare RangeError/TypeError,
// so callers can count, surface and resynchronise instead of crashing (h11's Local/Remote split, herdsman's status errors).

export type DlmsErrorCode =
  | "truncated" // input ended before the structure did
  | "malformed" // bytes present but not valid for the structure
  | "too-deep" // nesting limit reached (A-XDR / BER)
  | "too-large" // a length exceeds a bound
  | "bad-hcs"
  | "bad-fcs"
  | "bad-flag"
  | "bad-format"
  | "bad-address"
  | "unexpected-frame"
  | "unsupported"
  | "state"; // an operation illegal in the current state

export class DlmsError extends Error {
  override name = "DlmsError";
}

/** Raised while decoding bytes received from the peer (the peer misbehaved, or the line corrupted them). */
export class DecodeError extends DlmsError {
  override name = "DecodeError";
  constructor(
    readonly code: DlmsErrorCode,
    message: string,
    readonly offset?: number,
  ) {
    super(message);
  }
}

/**
 * The peer's message grew past a size bound we set (reassembled HDLC segments, a wrapper length): the rest of it
 * is not collected. `limit` is the bound in bytes; `received` how many bytes had arrived when it was crossed.
 */
export class SizeLimitError extends DecodeError {
  override name = "SizeLimitError";
  constructor(
    readonly limit: number,
    readonly received: number,
    message: string,
  ) {
    super("too-large", message);
  }
}

/** We (the local side) asked for something illegal: a programming or configuration error. */
export class LocalProtocolError extends DlmsError {
  override name = "LocalProtocolError";
}

/** The peer sent something well-formed but illegal in the current protocol state. */
export class RemoteProtocolError extends DlmsError {
  override name = "RemoteProtocolError";
  constructor(
    readonly code: DlmsErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A GET/SET answered with a data-access-result other than success (62056-5-3 Data-Access-Result). */
export class DataAccessError extends DlmsError {
  override name = "DataAccessError";
  constructor(
    readonly code: number,
    readonly codeName: string,
    readonly target?: string,
  ) {
    super(`${target ? `${target}: ` : ""}data-access-result ${codeName} (${code})`);
  }
}
