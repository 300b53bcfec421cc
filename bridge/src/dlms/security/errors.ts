// Why unprotecting a ciphered APDU failed. Messages name the check and the APDU, never a key.
import { DlmsError } from "../errors.js";

export type SecurityFailure =
  /** The GCM tag did not verify: tampered APDU, wrong key, or wrong system title in the IV. */
  | "tag-mismatch"
  /** The sender's invocation counter is not above the last one accepted: a replayed or reordered APDU. */
  | "replayed-counter"
  /** A plaintext APDU where the association requires protection, or a weaker protection than required. */
  | "not-protected"
  /** general-glo-ciphering carrying another system title than the peer's. */
  | "system-title-mismatch"
  /** The invocation counter would wrap past 2^32-1: the key must be renewed. */
  | "counter-exhausted";

export class SecurityError extends DlmsError {
  override name = "SecurityError";
  constructor(
    readonly failure: SecurityFailure,
    message: string,
  ) {
    super(message);
  }
}
