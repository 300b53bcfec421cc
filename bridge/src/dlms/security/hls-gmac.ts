// HLS authentication mechanism 5 (HLS-GMAC), 62056-5-3 §9.2.7.4 / Green Book Table 43. After the AARQ (CtoS) and
// AARE (StoC) challenges, each side proves it holds EK and AK by sending
//   f(challenge) = SC || IC || GMAC(EK, IV = own system title || IC, AAD = SC || AK || challenge)
// with SC = 0x10 (authentication only, suite 0): the client f(StoC) in pass 3, the server f(CtoS) in pass 4.
import { timingSafeEqual } from "node:crypto";
import { concatBytes } from "../codec/bytes.js";
import { DecodeError } from "../errors.js";
import { type CipherKeys, checkKeys, gmac, initializationVector, SECURITY_HEADER_LENGTH, TAG_LENGTH } from "./gcm.js";
import { securityControlFor } from "./security-control.js";

/** Challenge lengths allowed by 62056-5-3: 8 to 64 bytes. */
export const MIN_CHALLENGE_LENGTH = 8;
export const MAX_CHALLENGE_LENGTH = 64;
export const HLS_GMAC_SC = securityControlFor("auth");
export const HLS_RESPONSE_LENGTH = SECURITY_HEADER_LENGTH + TAG_LENGTH;

export interface HlsProof {
  /** The prover's system title. */
  systemTitle: Uint8Array;
  invocationCounter: number;
  keys: CipherKeys;
  /** The other side's challenge. */
  challenge: Uint8Array;
}

/** f(challenge): 17 bytes, SC || IC || 12-byte GMAC tag. */
export function hlsGmacResponse(p: HlsProof): Uint8Array {
  checkKeys(p.keys);
  const iv = initializationVector(p.systemTitle, p.invocationCounter);
  const tag = gmac(p.keys.ek, iv, concatBytes(Uint8Array.of(HLS_GMAC_SC), p.keys.ak, p.challenge));
  const out = new Uint8Array(HLS_RESPONSE_LENGTH);
  out[0] = HLS_GMAC_SC;
  new DataView(out.buffer).setUint32(1, p.invocationCounter);
  out.set(tag, SECURITY_HEADER_LENGTH);
  return out;
}

/**
 * Checks the peer's f(our challenge). Returns the invocation counter it used (for the replay check), or
 * undefined when it does not verify. A response of the wrong shape is a DecodeError.
 */
export function verifyHlsGmacResponse(
  response: Uint8Array,
  expected: Omit<HlsProof, "invocationCounter">,
): { ok: boolean; invocationCounter: number } {
  if (response.length !== HLS_RESPONSE_LENGTH || response[0] !== HLS_GMAC_SC) {
    throw new DecodeError(
      "malformed",
      `HLS-GMAC response of ${response.length} byte(s) with SC 0x${(response[0] ?? 0).toString(16)}: expected ${HLS_RESPONSE_LENGTH} bytes with SC 0x10`,
    );
  }
  const invocationCounter = new DataView(response.buffer, response.byteOffset + 1, 4).getUint32(0);
  const mine = hlsGmacResponse({ ...expected, invocationCounter });
  return { ok: timingSafeEqual(mine, response), invocationCounter };
}

export function checkChallenge(challenge: Uint8Array, whose: string): void {
  if (challenge.length < MIN_CHALLENGE_LENGTH || challenge.length > MAX_CHALLENGE_LENGTH) {
    throw new DecodeError(
      "malformed",
      `${whose} challenge of ${challenge.length} byte(s): 62056-5-3 requires ${MIN_CHALLENGE_LENGTH} to ${MAX_CHALLENGE_LENGTH}`,
    );
  }
}
