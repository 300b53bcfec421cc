// Ciphered APDU envelopes (62056-5-3 §9.3.x, xDLMS-APDU CHOICE): service-specific glo-ciphering (the plain tag's
// global counterpart, e.g. get-request 0xC0 -> glo-get-request 0xC8) and general-glo-ciphering (0xDB, which also
// carries the sender's system title). Both wrap SC || IC || information || T from gcm.ts in an OCTET STRING.
import { readLength, writeLength } from "../axdr/length.js";
import { ByteReader } from "../codec/reader.js";
import { ByteWriter } from "../codec/writer.js";
import { DecodeError, LocalProtocolError } from "../errors.js";
import { SecurityError } from "./errors.js";
import { type CipherKeys, checkSystemTitle, type Protected, protect, SYSTEM_TITLE_LENGTH, unprotect } from "./gcm.js";
import type { SecurityPolicy } from "./security-control.js";

/** plain tag -> [glo tag, name of the glo APDU]. */
const GLO: ReadonlyMap<number, [number, string]> = new Map([
  [0x01, [0x21, "glo-initiateRequest"]],
  [0x08, [0x28, "glo-initiateResponse"]],
  [0x0e, [0x2e, "glo-confirmedServiceError"]],
  [0xc0, [0xc8, "glo-get-request"]],
  [0xc1, [0xc9, "glo-set-request"]],
  [0xc2, [0xca, "glo-event-notification-request"]],
  [0xc3, [0xcb, "glo-action-request"]],
  [0xc4, [0xcc, "glo-get-response"]],
  [0xc5, [0xcd, "glo-set-response"]],
  [0xc7, [0xcf, "glo-action-response"]],
]);
const PLAIN_OF_GLO: ReadonlyMap<number, [number, string]> = new Map(
  [...GLO].map(([plain, [glo, name]]) => [glo, [plain, name]]),
);

export const GENERAL_GLO_CIPHERING = 0xdb;

export type CipheredKind = "glo" | "general-glo";

/** Whether an APDU's first byte is a ciphered envelope this layer opens. */
export function isCipheredTag(tag: number): boolean {
  return tag === GENERAL_GLO_CIPHERING || PLAIN_OF_GLO.has(tag);
}

export function cipheredName(tag: number): string | undefined {
  return tag === GENERAL_GLO_CIPHERING ? "general-glo-ciphering" : PLAIN_OF_GLO.get(tag)?.[1];
}

export interface WrapInput {
  kind: CipheredKind;
  policy: SecurityPolicy;
  systemTitle: Uint8Array;
  invocationCounter: number;
  keys: CipherKeys;
  /** The encoded plaintext APDU (its first byte picks the glo tag). */
  apdu: Uint8Array;
}

export function wrap(input: WrapInput): Uint8Array {
  const plainTag = input.apdu[0];
  const content = protect({ ...input, plaintext: input.apdu });
  const w = new ByteWriter(content.length + 16);
  if (input.kind === "general-glo") {
    checkSystemTitle(input.systemTitle, "the sender's");
    w.writeUInt8(GENERAL_GLO_CIPHERING);
    writeLength(w, input.systemTitle.length);
    w.writeBytes(input.systemTitle);
  } else {
    const glo = plainTag === undefined ? undefined : GLO.get(plainTag);
    if (!glo) throw new LocalProtocolError(`APDU tag 0x${(plainTag ?? 0).toString(16)} has no glo-ciphered form`);
    w.writeUInt8(glo[0]);
  }
  writeLength(w, content.length);
  w.writeBytes(content);
  return w.toBytes();
}

export interface Envelope {
  kind: CipheredKind;
  /** "glo-get-response", "general-glo-ciphering". */
  name: string;
  /** Plain tag the content must hold (glo only). */
  plainTag?: number;
  /** Sender's system title (general-glo only). */
  systemTitle?: Uint8Array;
  /** SC || IC || information || T. */
  content: Uint8Array;
}

/** Parses the envelope without any key: for traces and for choosing the keys. */
export function readEnvelope(bytes: Uint8Array): Envelope {
  const r = new ByteReader(bytes);
  const tag = r.readUInt8("ciphered APDU tag");
  if (tag === GENERAL_GLO_CIPHERING) {
    const systemTitle = r.readBytes(readLength(r), "system-title").slice();
    const content = r.readBytes(readLength(r), "ciphered-content");
    if (r.isMore())
      throw new DecodeError("malformed", `general-glo-ciphering: ${r.remaining} trailing byte(s)`, r.offset);
    return { kind: "general-glo", name: "general-glo-ciphering", systemTitle, content };
  }
  const glo = PLAIN_OF_GLO.get(tag);
  if (!glo) throw new DecodeError("malformed", `APDU tag 0x${tag.toString(16)} is not a ciphered APDU`, 0);
  const content = r.readBytes(readLength(r), glo[1]);
  if (r.isMore()) throw new DecodeError("malformed", `${glo[1]}: ${r.remaining} trailing byte(s)`, r.offset);
  return { kind: "glo", name: glo[1], plainTag: glo[0], content };
}

export interface Unwrapped extends Protected {
  kind: CipheredKind;
  name: string;
}

/** Opens a ciphered APDU from the peer whose system title is `systemTitle`. */
export function unwrap(bytes: Uint8Array, peer: { systemTitle: Uint8Array; keys: CipherKeys }): Unwrapped {
  const envelope = readEnvelope(bytes);
  if (envelope.systemTitle) {
    if (envelope.systemTitle.length !== SYSTEM_TITLE_LENGTH || !sameBytes(envelope.systemTitle, peer.systemTitle)) {
      throw new SecurityError(
        "system-title-mismatch",
        `${envelope.name}: sender system title ${hex(envelope.systemTitle)} is not the peer's ${hex(peer.systemTitle)}`,
      );
    }
  }
  const opened = unprotect({
    systemTitle: peer.systemTitle,
    keys: peer.keys,
    content: envelope.content,
    what: envelope.name,
  });
  if (envelope.plainTag !== undefined && opened.plaintext[0] !== envelope.plainTag) {
    const got = opened.plaintext[0]?.toString(16) ?? "nothing";
    throw new DecodeError(
      "malformed",
      `${envelope.name} holds APDU tag 0x${got}, expected 0x${envelope.plainTag.toString(16)}`,
    );
  }
  return { ...opened, kind: envelope.kind, name: envelope.name };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function hex(b: Uint8Array): string {
  return Array.from(b, (v) => v.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase();
}
