// Security suite 0 (AES-GCM-128) protection of xDLMS APDUs, 62056-5-3 §9.2.7.2.4 and Green Book §9.2.3.3.7:
//   IV  = system title (8 bytes) || invocation counter (4 bytes)
//   AAD = SC || AK               authenticated encryption (tag over AAD and the ciphertext)
//   AAD = SC || AK || plaintext  authentication only (the information travels in clear)
//   encryption only: GCM's counter-mode part without a tag
// The result is what ciphered APDUs carry after their length: SC || IC || information || T (12-byte tag).
import { createCipheriv, createDecipheriv } from "node:crypto";
import { concatBytes } from "../codec/bytes.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { SecurityError } from "./errors.js";
import { policyOf, type SecurityPolicy, securityControlFor } from "./security-control.js";

export const SYSTEM_TITLE_LENGTH = 8;
export const KEY_LENGTH = 16;
/** Security suite 0 truncates the GCM tag to 96 bits. */
export const TAG_LENGTH = 12;
/** SC (1) + IC (4). */
export const SECURITY_HEADER_LENGTH = 5;
export const MAX_INVOCATION_COUNTER = 0xffff_ffff;

/** The two global unicast keys of a client-server pair. SECRET: never logged, traced or stored. */
export interface CipherKeys {
  /** Block cipher key (EK, "block key"). */
  readonly ek: Uint8Array;
  /** Authentication key (AK). */
  readonly ak: Uint8Array;
}

export interface Protected {
  policy: SecurityPolicy;
  securityControl: number;
  invocationCounter: number;
  /** The APDU in clear. */
  plaintext: Uint8Array;
}

export function checkKeys(keys: CipherKeys): void {
  if (keys.ek.length !== KEY_LENGTH) throw new LocalProtocolError(`block key must be ${KEY_LENGTH} bytes`);
  if (keys.ak.length !== KEY_LENGTH) throw new LocalProtocolError(`authentication key must be ${KEY_LENGTH} bytes`);
}

export function checkSystemTitle(title: Uint8Array, whose: string): void {
  if (title.length !== SYSTEM_TITLE_LENGTH) {
    throw new LocalProtocolError(`${whose} system title has ${title.length} bytes, expected ${SYSTEM_TITLE_LENGTH}`);
  }
}

function checkCounter(ic: number): void {
  if (!Number.isInteger(ic) || ic < 0 || ic > MAX_INVOCATION_COUNTER) {
    throw new SecurityError("counter-exhausted", `invocation counter ${ic} is outside 0..2^32-1: renew the keys`);
  }
}

export function initializationVector(systemTitle: Uint8Array, invocationCounter: number): Uint8Array {
  checkSystemTitle(systemTitle, "the sender's");
  checkCounter(invocationCounter);
  const iv = new Uint8Array(12);
  iv.set(systemTitle, 0);
  new DataView(iv.buffer).setUint32(8, invocationCounter);
  return iv;
}

/** GMAC over `aad` (GCM with no plaintext), truncated to 12 bytes: the HLS-GMAC and auth-only tag. */
export function gmac(ek: Uint8Array, iv: Uint8Array, aad: Uint8Array): Uint8Array {
  const cipher = createCipheriv("aes-128-gcm", ek, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  cipher.final();
  return new Uint8Array(cipher.getAuthTag());
}

/** GCM's encryption is CTR starting at inc32(J0) = IV || 00000002; encryption-only uses exactly that, untagged. */
function ctr(ek: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  const counter = new Uint8Array(16);
  counter.set(iv, 0);
  counter[15] = 2;
  const cipher = createCipheriv("aes-128-ctr", ek, counter);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

export interface ProtectInput {
  policy: SecurityPolicy;
  /** The sender's system title. */
  systemTitle: Uint8Array;
  invocationCounter: number;
  keys: CipherKeys;
  plaintext: Uint8Array;
}

/** SC || IC || information || T for one APDU. */
export function protect(input: ProtectInput): Uint8Array {
  const { policy, keys, plaintext } = input;
  checkKeys(keys);
  const iv = initializationVector(input.systemTitle, input.invocationCounter);
  const sc = securityControlFor(policy);
  const header = new Uint8Array(SECURITY_HEADER_LENGTH);
  header[0] = sc;
  new DataView(header.buffer).setUint32(1, input.invocationCounter);
  if (policy === "enc") return concatBytes(header, ctr(keys.ek, iv, plaintext));
  if (policy === "auth") {
    return concatBytes(header, plaintext, gmac(keys.ek, iv, concatBytes(Uint8Array.of(sc), keys.ak, plaintext)));
  }
  const cipher = createCipheriv("aes-128-gcm", keys.ek, iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(concatBytes(Uint8Array.of(sc), keys.ak));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return concatBytes(header, ciphertext, cipher.getAuthTag());
}

export interface UnprotectInput {
  /** The sender's system title (the peer's). */
  systemTitle: Uint8Array;
  keys: CipherKeys;
  /** SC || IC || information || T as received. */
  content: Uint8Array;
  /** What the APDU is, for error messages ("glo-get-response"). */
  what: string;
}

/** Checks the tag (when authenticated) and deciphers (when encrypted). SecurityError "tag-mismatch" on failure. */
export function unprotect(input: UnprotectInput): Protected {
  const { content, keys, what } = input;
  checkKeys(keys);
  if (content.length < SECURITY_HEADER_LENGTH) {
    throw new DecodeError("truncated", `${what}: ${content.length} byte(s), shorter than the security header`);
  }
  const sc = content[0]!;
  const policy = policyOf(sc);
  const invocationCounter = new DataView(content.buffer, content.byteOffset + 1, 4).getUint32(0);
  const iv = initializationVector(input.systemTitle, invocationCounter);
  const body = content.subarray(SECURITY_HEADER_LENGTH);
  if (policy === "enc") return { policy, securityControl: sc, invocationCounter, plaintext: ctr(keys.ek, iv, body) };
  if (body.length < TAG_LENGTH) {
    throw new DecodeError(
      "truncated",
      `${what}: ${body.length} byte(s) after the security header, no room for the tag`,
    );
  }
  const information = body.subarray(0, body.length - TAG_LENGTH);
  const tag = body.subarray(body.length - TAG_LENGTH);
  const mismatch = () =>
    new SecurityError(
      "tag-mismatch",
      `${what}: authentication tag does not verify (invocation counter ${invocationCounter}): tampered, or the keys or the sender's system title differ`,
    );
  const decipher = createDecipheriv("aes-128-gcm", keys.ek, iv, { authTagLength: TAG_LENGTH });
  decipher.setAuthTag(tag);
  if (policy === "auth") {
    decipher.setAAD(concatBytes(Uint8Array.of(sc), keys.ak, information));
    try {
      decipher.final();
    } catch {
      throw mismatch();
    }
    return { policy, securityControl: sc, invocationCounter, plaintext: information.slice() };
  }
  decipher.setAAD(concatBytes(Uint8Array.of(sc), keys.ak));
  const plaintext = decipher.update(information);
  try {
    decipher.final();
  } catch {
    throw mismatch();
  }
  return { policy, securityControl: sc, invocationCounter, plaintext: new Uint8Array(plaintext) };
}
