// HDLC parameter negotiation carried in the information field of SNRM and UA (IEC 62056-46 §6.4.4.4.3.2):
//   81 (format identifier) 80 (group identifier) len, then TLVs:
//   05 max info field length transmit, 06 max info field length receive, 07 window size transmit, 08 window size receive.
// Each side states its own transmit/receive values; an absent parameter (or an empty field) means the default.

import { ByteReader } from "../codec/reader.js";
import { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { InternTable } from "../intern.js";
import type { HdlcParameters } from "../link.js";

export const DEFAULT_PARAMETERS: Readonly<HdlcParameters> = Object.freeze({
  maxInfoTx: 128,
  maxInfoRx: 128,
  windowTx: 1,
  windowRx: 1,
});

/** Largest information field a type-3 frame can carry with 4-byte server addressing (2047 - 12 bytes overhead). */
export const MAX_INFO_LENGTH = 2035;
export const MAX_WINDOW = 7;

const FORMAT_ID = 0x81;
const GROUP_ID = 0x80;
const PARAM = { maxInfoTx: 0x05, maxInfoRx: 0x06, windowTx: 0x07, windowRx: 0x08 } as const;

/**
 * Fills in defaults and rejects values outside what the frame format allows (our configuration error).
 * The result is frozen and shared by every link with the same values (see `sharedParameters`).
 */
export function resolveParameters(p: Partial<HdlcParameters> | undefined): Readonly<HdlcParameters> {
  const out = { ...DEFAULT_PARAMETERS, ...definedOnly(p ?? {}) };
  for (const key of ["maxInfoTx", "maxInfoRx"] as const) checkRange(key, out[key], 32, MAX_INFO_LENGTH);
  for (const key of ["windowTx", "windowRx"] as const) checkRange(key, out[key], 1, MAX_WINDOW);
  return sharedParameters(out);
}

const parameterTable = new InternTable<Readonly<HdlcParameters>>();

/** One frozen object per distinct set of values: a link keeps two (its own and the negotiated), for every meter. */
export function sharedParameters(p: HdlcParameters): Readonly<HdlcParameters> {
  const { maxInfoTx, maxInfoRx, windowTx, windowRx } = p;
  return parameterTable.get(parametersKey(p), () => Object.freeze({ maxInfoTx, maxInfoRx, windowTx, windowRx }));
}

/** The four values as one key, for tables of things that depend on them. */
export function parametersKey(p: HdlcParameters): string {
  return `${p.maxInfoTx}/${p.maxInfoRx}/${p.windowTx}/${p.windowRx}`;
}

export function isDefault(p: HdlcParameters): boolean {
  return (
    p.maxInfoTx === DEFAULT_PARAMETERS.maxInfoTx &&
    p.maxInfoRx === DEFAULT_PARAMETERS.maxInfoRx &&
    p.windowTx === DEFAULT_PARAMETERS.windowTx &&
    p.windowRx === DEFAULT_PARAMETERS.windowRx
  );
}

/** The sender's own values. Info lengths take 1 byte when they fit, else 2; windows 4 bytes (as meters send them). */
export function encodeParameters(p: HdlcParameters): Uint8Array {
  const body = new ByteWriter(24);
  for (const key of ["maxInfoTx", "maxInfoRx"] as const) {
    const v = p[key];
    body.writeUInt8(PARAM[key]);
    if (v <= 0xff) body.writeUInt8(1).writeUInt8(v);
    else body.writeUInt8(2).writeUInt16(v);
  }
  for (const key of ["windowTx", "windowRx"] as const) body.writeUInt8(PARAM[key]).writeUInt8(4).writeUInt32(p[key]);
  const bytes = body.toBytes();
  return new ByteWriter(bytes.length + 3)
    .writeUInt8(FORMAT_ID)
    .writeUInt8(GROUP_ID)
    .writeUInt8(bytes.length)
    .writeBytes(bytes)
    .toBytes();
}

/** The peer's own values from a SNRM/UA information field; empty means all defaults. */
export function decodeParameters(info: Uint8Array): HdlcParameters {
  const out: HdlcParameters = { ...DEFAULT_PARAMETERS };
  if (info.length === 0) return out;
  const r = new ByteReader(info);
  const format = r.readUInt8("HDLC parameter format identifier");
  if (format !== FORMAT_ID) throw malformed(`parameter format identifier 0x${hex(format)} (expected 0x81)`, 0);
  const group = r.readUInt8("HDLC parameter group identifier");
  if (group !== GROUP_ID) throw malformed(`parameter group identifier 0x${hex(group)} (expected 0x80)`, 1);
  const groupLength = r.readUInt8("HDLC parameter group length");
  if (groupLength !== r.remaining) {
    throw malformed(`parameter group length ${groupLength} but ${r.remaining} byte(s) follow`, 2);
  }
  while (r.isMore()) {
    const at = r.offset;
    const id = r.readUInt8("HDLC parameter identifier");
    const len = r.readUInt8("HDLC parameter length");
    if (len < 1 || len > 4) throw malformed(`parameter 0x${hex(id)} has length ${len} (1..4 allowed)`, at);
    let value = 0;
    for (const b of r.readBytes(len, `HDLC parameter 0x${hex(id)}`)) value = value * 256 + b;
    const key = (Object.keys(PARAM) as (keyof typeof PARAM)[]).find((k) => PARAM[k] === id);
    if (!key) continue; // parameters we do not use are skipped, as the standard allows
    const isWindow = key === "windowTx" || key === "windowRx";
    const [min, max] = isWindow ? [1, MAX_WINDOW] : [1, MAX_INFO_LENGTH];
    if (value < min || value > max) throw malformed(`parameter ${key} = ${value} out of range ${min}..${max}`, at);
    out[key] = value;
  }
  return out;
}

/**
 * What one side may use, given its own limits and the peer's stated values: it transmits no more than the peer
 * receives, and receives no more than the peer transmits.
 */
export function negotiate(own: HdlcParameters, peer: HdlcParameters): Readonly<HdlcParameters> {
  return sharedParameters({
    maxInfoTx: Math.min(own.maxInfoTx, peer.maxInfoRx),
    maxInfoRx: Math.min(own.maxInfoRx, peer.maxInfoTx),
    windowTx: Math.min(own.windowTx, peer.windowRx),
    windowRx: Math.min(own.windowRx, peer.windowTx),
  });
}

function definedOnly(p: Partial<HdlcParameters>): Partial<HdlcParameters> {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
}

function checkRange(what: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new LocalProtocolError(`HDLC ${what} ${v} out of range ${min}..${max}`);
}

function malformed(message: string, offset: number): DecodeError {
  return new DecodeError("malformed", `HDLC ${message}`, offset);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0").toUpperCase();
}
