// Parsing of HLS-GMAC settings shared by the .env configuration and the CLI: keys (32 hex digits, SECRET) and
// system titles (16 hex digits or 8 ASCII characters). Errors name the setting, never echo a key.

export const KEY_HEX_DIGITS = 32;

/** A 16-byte key from 32 hex digits (spaces/colons allowed). The value is never part of the error. */
export function parseKey(value: string, name: string): Uint8Array {
  const clean = value.trim().replace(/[\s:]/g, "");
  if (!/^[0-9a-fA-F]*$/.test(clean) || clean.length !== KEY_HEX_DIGITS) {
    throw new Error(
      `${name} must be ${KEY_HEX_DIGITS} hex digits (a 16-byte AES-128 key), got ${clean.length} character(s) of which some may not be hex`,
    );
  }
  return Uint8Array.from(Buffer.from(clean, "hex"));
}

/** A system title: 16 hex digits, or exactly 8 printable ASCII characters (e.g. "BRIDGE01"). */
export function parseSystemTitle(value: string, name: string): Uint8Array {
  const v = value.trim();
  if (/^[0-9a-fA-F]{16}$/.test(v)) return Uint8Array.from(Buffer.from(v, "hex"));
  if (/^[\x20-\x7e]{8}$/.test(v)) return new TextEncoder().encode(v);
  throw new Error(`${name} must be 16 hex digits or 8 ASCII characters, got "${v}"`);
}

/** The bridge's default client system title: "DLB" (DLMS bridge) and 5 zero bytes. */
export const DEFAULT_CLIENT_SYSTEM_TITLE = Uint8Array.of(0x44, 0x4c, 0x42, 0, 0, 0, 0, 1);
