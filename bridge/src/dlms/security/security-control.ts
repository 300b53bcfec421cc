// Security control byte (62056-5-3 §9.2.7.2.4, Green Book security header): bits 0-3 security suite id, bit 4
// authentication (A), bit 5 encryption (E), bit 6 key set (0 unicast, 1 broadcast), bit 7 compression.
import { DecodeError, LocalProtocolError } from "../errors.js";

/** What protection an APDU gets: authentication only, encryption only, or both (the policy names of the issue). */
export type SecurityPolicy = "auth" | "enc" | "auth-enc";

export interface SecurityControl {
  suite: number;
  authenticated: boolean;
  encrypted: boolean;
  broadcastKey: boolean;
  compressed: boolean;
}

const AUTHENTICATION = 0x10;
const ENCRYPTION = 0x20;
const BROADCAST_KEY = 0x40;
const COMPRESSION = 0x80;

export function encodeSecurityControl(sc: SecurityControl): number {
  if (!Number.isInteger(sc.suite) || sc.suite < 0 || sc.suite > 15) {
    throw new LocalProtocolError(`security suite ${sc.suite} is outside 0..15`);
  }
  return (
    sc.suite |
    (sc.authenticated ? AUTHENTICATION : 0) |
    (sc.encrypted ? ENCRYPTION : 0) |
    (sc.broadcastKey ? BROADCAST_KEY : 0) |
    (sc.compressed ? COMPRESSION : 0)
  );
}

export function decodeSecurityControl(byte: number): SecurityControl {
  return {
    suite: byte & 0x0f,
    authenticated: (byte & AUTHENTICATION) !== 0,
    encrypted: (byte & ENCRYPTION) !== 0,
    broadcastKey: (byte & BROADCAST_KEY) !== 0,
    compressed: (byte & COMPRESSION) !== 0,
  };
}

/** The security control byte for a policy with security suite 0, unicast key, no compression. */
export function securityControlFor(policy: SecurityPolicy): number {
  return encodeSecurityControl({
    suite: 0,
    authenticated: policy !== "enc",
    encrypted: policy !== "auth",
    broadcastKey: false,
    compressed: false,
  });
}

/** The policy a received security control byte expresses; only suite 0, unicast and uncompressed are accepted. */
export function policyOf(byte: number, offset?: number): SecurityPolicy {
  const sc = decodeSecurityControl(byte);
  const hex = `0x${byte.toString(16).padStart(2, "0")}`;
  if (sc.suite !== 0)
    throw new DecodeError("unsupported", `security control ${hex}: security suite ${sc.suite} (only 0)`, offset);
  if (sc.compressed)
    throw new DecodeError("unsupported", `security control ${hex}: compression is not supported`, offset);
  if (sc.broadcastKey)
    throw new DecodeError("unsupported", `security control ${hex}: broadcast key is not supported`, offset);
  if (sc.authenticated && sc.encrypted) return "auth-enc";
  if (sc.authenticated) return "auth";
  if (sc.encrypted) return "enc";
  throw new DecodeError("malformed", `security control ${hex} asks for neither authentication nor encryption`, offset);
}

export function describePolicy(policy: SecurityPolicy): string {
  return policy === "auth" ? "authenticated" : policy === "enc" ? "encrypted" : "authenticated+encrypted";
}
