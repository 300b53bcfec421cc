// HDLC addresses (IEC 62056-46 §6.4.2.2): each byte carries 7 address bits and, in bit 0, the extension bit
// (0 = another byte follows, 1 = last byte). The client address is 1 byte (the SAP). The server address is
// 1, 2 or 4 bytes: upper HDLC address (logical device) and optional lower HDLC address (physical device),
// 7 bits each in the 2-byte form, 14 bits each in the 4-byte form.

import type { ByteReader } from "../codec/reader.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { InternTable } from "../intern.js";

export type AddressSize = 1 | 2 | 4;

export interface DecodedAddress {
  /** The address bytes as on the wire. */
  bytes: Uint8Array;
  /** Upper HDLC address: the client SAP, or the server's logical device address. */
  upper: number;
  /** Lower HDLC address (physical device); absent in the 1-byte form. */
  lower?: number;
  size: number;
}

const addressTable = new InternTable<Uint8Array>();

/**
 * One copy of an address's bytes for every link that uses it (≈ 0.2 kB each as a Uint8Array of its own; a link holds
 * two). Shared, so never written to: links only compare them and copy them into frames.
 */
export function sharedAddressBytes(bytes: Uint8Array): Uint8Array {
  return addressTable.get(bytes.join("."), () => bytes);
}

/** Client SAP (0..127) as its 1-byte HDLC address, e.g. 16 -> 0x21. */
export function encodeClientAddress(sap: number): Uint8Array {
  checkRange("client SAP", sap, 0x7f);
  return Uint8Array.of((sap << 1) | 1);
}

/**
 * Server address in the 1-, 2- or 4-byte form. Default size: 1 without a physical address, 4 with one.
 * E.g. logical 1 -> [0x03]; logical 1, physical 17, size 2 -> [0x02, 0x23]; logical 1, physical 1234 -> 4 bytes.
 */
export function encodeServerAddress(logical: number, physical?: number, size?: AddressSize): Uint8Array {
  const form = size ?? (physical === undefined ? 1 : 4);
  if (form === 1) {
    if (physical !== undefined)
      throw new LocalProtocolError(`server address: 1-byte form cannot carry physical ${physical}`);
    checkRange("server logical address", logical, 0x7f);
    return Uint8Array.of((logical << 1) | 1);
  }
  if (physical === undefined)
    throw new LocalProtocolError(`server address: ${form}-byte form needs a physical address`);
  if (form === 2) {
    checkRange("server logical address", logical, 0x7f);
    checkRange("server physical address", physical, 0x7f);
    return Uint8Array.of(logical << 1, (physical << 1) | 1);
  }
  if (form !== 4) throw new LocalProtocolError(`server address: size must be 1, 2 or 4, got ${String(form)}`);
  checkRange("server logical address", logical, 0x3fff);
  checkRange("server physical address", physical, 0x3fff);
  return Uint8Array.of((logical >> 7) << 1, (logical & 0x7f) << 1, (physical >> 7) << 1, ((physical & 0x7f) << 1) | 1);
}

/** Reads one address (up to the byte with the extension bit set). Only the 1-, 2- and 4-byte forms are valid. */
export function decodeAddress(r: ByteReader): DecodedAddress {
  const bytes = readAddressBytes(r);
  if (bytes.length === 1) return { bytes, upper: bytes[0]! >> 1, size: 1 };
  if (bytes.length === 2) return { bytes, upper: bytes[0]! >> 1, lower: bytes[1]! >> 1, size: 2 };
  return {
    bytes,
    upper: ((bytes[0]! >> 1) << 7) | (bytes[1]! >> 1),
    lower: ((bytes[2]! >> 1) << 7) | (bytes[3]! >> 1),
    size: 4,
  };
}

/**
 * One 1-byte address array per byte value, shared by every frame that carries it: a link decodes the same one or
 * two addresses in every frame, and a copy each time is an allocation per frame. Never written to.
 */
const ONE_BYTE_ADDRESSES: readonly Uint8Array[] = Array.from({ length: 256 }, (_, b) => Uint8Array.of(b));

/**
 * The wire bytes of one address (validated like decodeAddress), without decoding its parts: what a frame
 * carries. A 1-byte address is a shared array (read only); longer ones are copies.
 */
export function readAddressBytes(r: ByteReader): Uint8Array {
  const start = r.offset;
  let n = 0;
  for (;;) {
    n++;
    if (r.readUInt8("HDLC address") & 1) break;
    if (n === 4) throw new DecodeError("bad-address", `HDLC address longer than 4 bytes at offset ${start}`, start);
  }
  if (n === 1) return ONE_BYTE_ADDRESSES[r.bytes[start]!]!;
  if (n === 3) {
    throw new DecodeError("bad-address", `HDLC address of ${n} bytes at offset ${start} (1, 2 or 4 allowed)`, start);
  }
  return r.bytes.slice(start, start + n);
}

/** "0x03", "0x0223": address bytes for traces. */
export function formatAddress(bytes: Uint8Array): string {
  let s = "0x";
  for (const b of bytes) s += b.toString(16).padStart(2, "0").toUpperCase();
  return s;
}

function checkRange(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new LocalProtocolError(`${what} ${value} out of range 0..${max}`);
  }
}
