// OBIS codes (IEC 62056-61): the 6-byte logical name of a COSEM object, in text as "1.0.32.7.0.255" or "1-0:32.7.0*255".
import type { DlmsData } from "../axdr/types.js";
import { DecodeError, LocalProtocolError } from "../errors.js";

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.(\d{1,3}))?$/;
// A-B:C.D.E with an optional F after "*", "&" (billing period) or ".".
const IEC = /^(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:[*&.](\d{1,3}))?$/;

/** Parses "1.0.32.7.0.255", "1-0:32.7.0*255", "1-0:32.7.0" or "1.0.32.7.0" (F defaults to 255). */
export function parseObis(text: string): Uint8Array {
  const m = DOTTED.exec(text.trim()) ?? IEC.exec(text.trim());
  if (!m) {
    throw new LocalProtocolError(`invalid OBIS code "${text}": expected A.B.C.D.E.F or A-B:C.D.E*F with groups 0..255`);
  }
  const groups = m.slice(1, 7).map((g) => (g === undefined ? 255 : Number(g)));
  const bad = groups.find((g) => g > 255);
  if (bad !== undefined) throw new LocalProtocolError(`invalid OBIS code "${text}": group ${bad} is above 255`);
  return Uint8Array.from(groups);
}

export function formatObis(ln: Uint8Array, style: "dotted" | "iec" = "dotted"): string {
  if (!(ln instanceof Uint8Array) || ln.length !== 6) {
    throw new LocalProtocolError(`a logical name has 6 bytes, got ${ln instanceof Uint8Array ? ln.length : typeof ln}`);
  }
  const [a, b, c, d, e, f] = ln;
  return style === "iec" ? `${a}-${b}:${c}.${d}.${e}*${f}` : `${a}.${b}.${c}.${d}.${e}.${f}`;
}

/** True when the text is a valid OBIS code in any accepted form. */
export function isObis(text: string): boolean {
  try {
    parseObis(text);
    return true;
  } catch {
    return false;
  }
}

/** The dotted OBIS of a logical-name value received from a meter (an octet-string of 6 bytes). */
export function obisFromData(d: DlmsData, what = "logical name"): string {
  if (d.type !== "octet-string" || d.value.length !== 6) {
    const got = d.type === "octet-string" ? `octet-string of ${d.value.length} bytes` : d.type;
    throw new DecodeError("malformed", `${what}: expected an octet-string of 6 bytes, got ${got}`);
  }
  return formatObis(d.value);
}
