// The LLS password travels in clear inside the AARQ (calling-authentication-value). Frames handed to trace hooks
// are copies with every occurrence of the password replaced by '*' bytes, so no trace or log ever holds it.

const MASK_BYTE = 0x2a; // '*'

/** A copy of `frame` with each occurrence of `secret` masked; the same array when the secret is absent or empty. */
export function maskSecret(frame: Uint8Array, secret: Uint8Array | undefined): Uint8Array {
  if (!secret || secret.length === 0 || frame.length < secret.length) return frame;
  let out: Uint8Array | undefined;
  for (let i = 0; i + secret.length <= frame.length; i++) {
    if (matchesAt(frame, secret, i)) {
      out ??= frame.slice();
      out.fill(MASK_BYTE, i, i + secret.length);
      i += secret.length - 1;
    }
  }
  return out ?? frame;
}

function matchesAt(haystack: Uint8Array, needle: Uint8Array, at: number): boolean {
  for (let j = 0; j < needle.length; j++) if (haystack[at + j] !== needle[j]) return false;
  return true;
}
