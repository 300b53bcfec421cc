// DLMS UA object identifiers {joint-iso-ccitt(2) country(16) country-name(756) identified-organization(5)
// DLMS-UA(8) ...}: application-context-name (…1.n) and mechanism-name (…2.n). Kept as tables so new contexts or
// mechanisms (ciphered contexts, HLS-GMAC) are one line each.
import { DecodeError, LocalProtocolError } from "../errors.js";
import { oidFromString, oidToString, sameBytes } from "./ber.js";
import type { ApplicationContext, AuthenticationMechanism } from "./types.js";

const APPLICATION_CONTEXTS: Record<ApplicationContext, string> = {
  ln: "2.16.756.5.8.1.1",
  sn: "2.16.756.5.8.1.2",
  "ln-ciphered": "2.16.756.5.8.1.3",
  "sn-ciphered": "2.16.756.5.8.1.4",
};

/** "none" is the lowest-level-security mechanism (…2.0): only encoded when explicitly given. */
const MECHANISMS: Record<AuthenticationMechanism, string> = {
  none: "2.16.756.5.8.2.0",
  low: "2.16.756.5.8.2.1",
  high: "2.16.756.5.8.2.2",
  "high-md5": "2.16.756.5.8.2.3",
  "high-sha1": "2.16.756.5.8.2.4",
  "high-gmac": "2.16.756.5.8.2.5",
  "high-sha256": "2.16.756.5.8.2.6",
  "high-ecdsa": "2.16.756.5.8.2.7",
};

function table<K extends string>(dotted: Record<K, string>): [K, Uint8Array][] {
  return (Object.entries(dotted) as [K, string][]).map(([name, oid]) => [name, oidFromString(oid)]);
}

const contextOids = table(APPLICATION_CONTEXTS);
const mechanismOids = table(MECHANISMS);

function byOid<K extends string>(entries: [K, Uint8Array][], body: Uint8Array, what: string, offset: number): K {
  const hit = entries.find(([, oid]) => sameBytes(oid, body));
  if (!hit) throw new DecodeError("unsupported", `unknown ${what} ${oidToString(body)}`, offset);
  return hit[0];
}

function byName<K extends string>(entries: [K, Uint8Array][], name: K, what: string): Uint8Array {
  const hit = entries.find(([n]) => n === name);
  if (!hit) throw new LocalProtocolError(`unknown ${what} "${name}"`);
  return hit[1];
}

export function applicationContextOid(c: ApplicationContext): Uint8Array {
  return byName(contextOids, c, "application context");
}
export function mechanismOid(m: AuthenticationMechanism): Uint8Array {
  return byName(mechanismOids, m, "authentication mechanism");
}
export function applicationContextFromOid(body: Uint8Array, offset: number): ApplicationContext {
  return byOid(contextOids, body, "application-context-name", offset);
}
export function mechanismFromOid(body: Uint8Array, offset: number): AuthenticationMechanism {
  return byOid(mechanismOids, body, "mechanism-name", offset);
}
