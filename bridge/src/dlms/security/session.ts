// The ciphering state of one association, sans-IO: who we are, who the peer is, the keys, the policy, and the
// replay floor of the peer's invocation counter. Our own counter comes from the caller (it must be persisted
// before use, which is I/O); the peer's is checked here: each ciphered APDU from the peer must carry a counter
// strictly above the last one accepted.
import { SecurityError } from "./errors.js";
import type { CipherKeys } from "./gcm.js";
import { type CipheredKind, type Unwrapped, unwrap, wrap } from "./glo.js";
import type { SecurityPolicy } from "./security-control.js";

export interface CipherSessionOptions {
  policy: SecurityPolicy;
  ownSystemTitle: Uint8Array;
  peerSystemTitle: Uint8Array;
  keys: CipherKeys;
  /** Envelope for what we send. Default service-specific glo. */
  kind?: CipheredKind;
  /** Highest peer counter already accepted (from an earlier association); default none. */
  lastPeerCounter?: number;
}

/** Whether a received protection satisfies the required one (authentication and encryption are each required). */
export function covers(received: SecurityPolicy, required: SecurityPolicy): boolean {
  const auth = (p: SecurityPolicy) => p !== "enc";
  const enc = (p: SecurityPolicy) => p !== "auth";
  return (!auth(required) || auth(received)) && (!enc(required) || enc(received));
}

export class CipherSession {
  private peerCounter: number | undefined;

  constructor(private readonly options: CipherSessionOptions) {
    this.peerCounter = options.lastPeerCounter;
  }

  get policy(): SecurityPolicy {
    return this.options.policy;
  }

  get lastPeerCounter(): number | undefined {
    return this.peerCounter;
  }

  /** Wraps an encoded plaintext APDU with our invocation counter `ic` (already reserved by the caller). */
  protect(apdu: Uint8Array, ic: number): Uint8Array {
    const o = this.options;
    return wrap({
      kind: o.kind ?? "glo",
      policy: o.policy,
      systemTitle: o.ownSystemTitle,
      invocationCounter: ic,
      keys: o.keys,
      apdu,
    });
  }

  /** Opens a ciphered APDU from the peer: tag, required protection and counter freshness are all checked. */
  unprotect(bytes: Uint8Array): Unwrapped {
    const o = this.options;
    const opened = unwrap(bytes, { systemTitle: o.peerSystemTitle, keys: o.keys });
    if (!covers(opened.policy, o.policy)) {
      throw new SecurityError(
        "not-protected",
        `${opened.name} is protected "${opened.policy}" but the association requires "${o.policy}"`,
      );
    }
    this.acceptCounter(opened.invocationCounter, opened.name);
    return opened;
  }

  /** The replay check, also used for the counter in the peer's HLS f(CtoS). */
  acceptCounter(ic: number, what: string): void {
    if (this.peerCounter !== undefined && ic <= this.peerCounter) {
      throw new SecurityError(
        "replayed-counter",
        `${what}: invocation counter ${ic} is not above the last accepted ${this.peerCounter} (replayed or reordered)`,
      );
    }
    this.peerCounter = ic;
  }
}
