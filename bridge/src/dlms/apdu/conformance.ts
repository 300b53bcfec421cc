// xDLMS Conformance block (62056-5-3): a 24-bit BIT STRING; Green Book bit 0 is the most significant bit, so bit n
// is the mask 1 << (23 - n). Names are the ASN.1 identifiers so traces match the spec text.
import { LocalProtocolError } from "../errors.js";

export const ConformanceBit: { readonly [name: string]: number } = Object.freeze({
  "reserved-zero": 0,
  "general-protection": 1,
  "general-block-transfer": 2,
  read: 3,
  write: 4,
  "unconfirmed-write": 5,
  "delta-value-encoding": 6,
  "reserved-seven": 7,
  "attribute0-supported-with-set": 8,
  "priority-mgmt-supported": 9,
  "attribute0-supported-with-get": 10,
  "block-transfer-with-get-or-read": 11,
  "block-transfer-with-set-or-write": 12,
  "block-transfer-with-action": 13,
  "multiple-references": 14,
  "information-report": 15,
  "data-notification": 16,
  access: 17,
  "parameterized-access": 18,
  get: 19,
  set: 20,
  "selective-access": 21,
  "event-notification": 22,
  action: 23,
});

export const CONFORMANCE_MASK_ALL = 0xff_ffff;

function bitMask(name: string): number {
  const bit = ConformanceBit[name];
  if (bit === undefined) throw new LocalProtocolError(`unknown conformance bit "${name}"`);
  return 1 << (23 - bit);
}

export function conformanceMask(names: string[]): number {
  return names.reduce((mask, name) => mask | bitMask(name), 0);
}

/** Names of the bits set in a mask, in bit order (bit 0 first). */
export function conformanceNames(mask: number): string[] {
  return Object.entries(ConformanceBit)
    .filter(([, bit]) => (mask & (1 << (23 - bit))) !== 0)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name);
}

export function hasConformance(mask: number, name: string): boolean {
  return (mask & bitMask(name)) !== 0;
}

/** What our client proposes: LN GET/SET/ACTION with block transfer, selective access and GET-with-list. */
export const DEFAULT_CLIENT_CONFORMANCE: number = conformanceMask([
  "priority-mgmt-supported",
  "attribute0-supported-with-get",
  "block-transfer-with-get-or-read",
  "multiple-references",
  "get",
  "set",
  "selective-access",
  "action",
]);
