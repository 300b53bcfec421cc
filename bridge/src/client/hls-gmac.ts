// Client side of HLS-GMAC (mechanism 5) with ciphered APDUs: the AARQ (LN referencing with ciphering,
// calling-AP-title, CtoS, glo-initiateRequest), the AARE checks, and pass 3/4 (reply_to_HLS_authentication on the
// Association LN object). Pure helpers: client.ts does the sending and waiting.
import { randomBytes } from "node:crypto";
import { buildInitiateRequest } from "../dlms/apdu/builders.js";
import { conformanceMask, DEFAULT_CLIENT_CONFORMANCE, hasConformance } from "../dlms/apdu/conformance.js";
import { encodeApdu } from "../dlms/apdu/index.js";
import { readInitiateResponse } from "../dlms/apdu/initiate.js";
import type {
  Aare,
  Aarq,
  ActionRequest,
  ActionResponse,
  InitiateResponse,
  InvokeIdAndPriority,
} from "../dlms/apdu/types.js";
import { toHex } from "../dlms/codec/hex.js";
import { ByteReader } from "../dlms/codec/reader.js";
import { DecodeError } from "../dlms/errors.js";
import {
  CipherSession,
  checkChallenge,
  hlsGmacResponse,
  SecurityError,
  SYSTEM_TITLE_LENGTH,
  verifyHlsGmacResponse,
  wrap,
} from "../dlms/security/index.js";
import { type ClientStep, SecurityFailureError } from "./errors.js";
import type { HlsGmacSettings } from "./types.js";

/** Our CtoS challenge length (62056-5-3 allows 8..64). */
const CTOS_LENGTH = 16;
const ASSOCIATION_LN = Uint8Array.of(0, 0, 40, 0, 0, 255);
/** Bytes ciphering adds to an APDU: glo tag + length (up to 3) + SC + IC + 12-byte tag. */
export const CIPHERING_OVERHEAD = 1 + 3 + 5 + 12;

export interface HlsStart {
  aarq: Aarq;
  ctos: Uint8Array;
  invocationCounter: number;
}

export function nextCounter(auth: HlsGmacSettings, step: ClientStep): number {
  try {
    return auth.counter.next();
  } catch (error) {
    throw new SecurityFailureError(step, "counter-store", `cannot reserve an invocation counter: ${messageOf(error)}`);
  }
}

export function buildHlsAarq(
  auth: HlsGmacSettings,
  opts: { conformance?: number; maxReceivePduSize: number },
): HlsStart {
  const ctos = new Uint8Array(randomBytes(CTOS_LENGTH));
  const invocationCounter = nextCounter(auth, "aarq");
  const initiate = buildInitiateRequest({
    // general-protection: a meter that grants it gets general-glo-ciphering (it carries our system title).
    conformance: (opts.conformance ?? DEFAULT_CLIENT_CONFORMANCE) | conformanceMask(["general-protection"]),
    maxReceivePduSize: opts.maxReceivePduSize,
  });
  const glo = wrap({
    kind: "glo",
    policy: auth.policy,
    systemTitle: auth.systemTitle,
    invocationCounter,
    keys: auth.keys,
    apdu: encodeApdu(initiate),
  });
  const aarq: Aarq = {
    tag: "aarq",
    applicationContext: "ln-ciphered",
    callingApTitle: auth.systemTitle,
    mechanism: "high-gmac",
    authenticationValue: ctos,
    userInformation: { tag: "ciphered-user-information", bytes: glo },
  };
  return { aarq, ctos, invocationCounter };
}

/** Maps a rejecting AARE to the security cause it reveals, or undefined when it is not a security refusal. */
export function securityRejection(aare: Aare): SecurityFailureError | undefined {
  const ui = aare.userInformation;
  if (ui?.tag === "confirmed-service-error" && ui.errorName === "deciphering-error") {
    return new SecurityFailureError(
      "aarq",
      "block-key",
      "the meter could not decipher our glo-initiateRequest (deciphering-error): the block key (BLOCK_KEY) differs from the meter's, or our invocation counter is below what it expects",
    );
  }
  if (aare.diagnostic.name === "authentication-failure") {
    return new SecurityFailureError(
      "aarq",
      "authentication-key",
      "the meter refused the authentication of our glo-initiateRequest (authentication-failure): the authentication key (AUTH_KEY) differs from the meter's",
    );
  }
  return undefined;
}

export interface HlsAccepted {
  session: CipherSession;
  initiate: InitiateResponse;
  stoc: Uint8Array;
  serverSystemTitle: Uint8Array;
}

/** Checks an accepting AARE and opens its glo-initiateResponse. */
export function acceptHlsAare(aare: Aare, auth: HlsGmacSettings): HlsAccepted {
  const fail = (check: "system-title" | "tag-mismatch" | "not-protected", message: string) =>
    new SecurityFailureError("aarq", check, message);
  if (aare.applicationContext !== "ln-ciphered" || (aare.mechanism && aare.mechanism !== "high-gmac")) {
    throw fail(
      "not-protected",
      `the meter accepted with context ${aare.applicationContext} and mechanism ${aare.mechanism ?? "none"}, not LN with ciphering and HLS-GMAC`,
    );
  }
  const title = aare.respondingApTitle;
  if (!title || title.length !== SYSTEM_TITLE_LENGTH) {
    throw fail("system-title", "the AARE has no 8-byte responding-AP-title (the meter's system title)");
  }
  if (auth.serverSystemTitle && toHex(auth.serverSystemTitle) !== toHex(title)) {
    throw fail(
      "system-title",
      `the meter's system title ${toHex(title, "")} is not the configured server_system_title ${toHex(auth.serverSystemTitle, "")}`,
    );
  }
  const stoc = aare.respondingAuthenticationValue;
  if (!stoc) throw fail("not-protected", "the AARE carries no StoC challenge");
  try {
    checkChallenge(stoc, "the meter's");
  } catch (error) {
    throw fail("not-protected", messageOf(error));
  }
  const ui = aare.userInformation;
  if (ui?.tag !== "ciphered-user-information") {
    throw fail("not-protected", "the AARE's InitiateResponse is not ciphered (glo-initiateResponse expected)");
  }
  const session = new CipherSession({
    policy: auth.policy,
    ownSystemTitle: auth.systemTitle,
    peerSystemTitle: title,
    keys: auth.keys,
    ...(auth.lastServerCounter !== undefined ? { lastPeerCounter: auth.lastServerCounter } : {}),
  });
  const opened = unprotectOrThrow(session, ui.bytes, "aarq");
  const r = new ByteReader(opened);
  if (r.readUInt8("InitiateResponse tag") !== 0x08) {
    throw new SecurityFailureError("aarq", "not-protected", "the glo-initiateResponse holds no InitiateResponse");
  }
  const initiate = readInitiateResponse(r);
  if (!hasConformance(initiate.negotiatedConformance, "general-protection")) {
    return { session, initiate, stoc, serverSystemTitle: title };
  }
  const general = new CipherSession({
    policy: auth.policy,
    ownSystemTitle: auth.systemTitle,
    peerSystemTitle: title,
    keys: auth.keys,
    kind: "general-glo",
    ...(session.lastPeerCounter !== undefined ? { lastPeerCounter: session.lastPeerCounter } : {}),
  });
  return { session: general, initiate, stoc, serverSystemTitle: title };
}

/** Opens a ciphered APDU, mapping failures to SecurityFailureError for `step`. */
export function unprotectOrThrow(session: CipherSession, bytes: Uint8Array, step: ClientStep): Uint8Array {
  try {
    return session.unprotect(bytes).plaintext;
  } catch (error) {
    throw asSecurityFailure(error, step);
  }
}

export function asSecurityFailure(error: unknown, step: ClientStep): Error {
  if (error instanceof SecurityError) {
    const check =
      error.failure === "replayed-counter"
        ? "replayed-counter"
        : error.failure === "system-title-mismatch"
          ? "system-title"
          : error.failure === "not-protected"
            ? "not-protected"
            : error.failure === "counter-exhausted"
              ? "counter-store"
              : "tag-mismatch";
    return new SecurityFailureError(step, check, error.message);
  }
  if (error instanceof DecodeError) return new SecurityFailureError(step, "not-protected", error.message);
  return error instanceof Error ? error : new Error(String(error));
}

/** Pass 3: ACTION reply_to_HLS_authentication with f(StoC). */
export function buildPass3(auth: HlsGmacSettings, stoc: Uint8Array, invoke: InvokeIdAndPriority): ActionRequest {
  const fStoC = hlsGmacResponse({
    systemTitle: auth.systemTitle,
    invocationCounter: nextCounter(auth, "hls"),
    keys: auth.keys,
    challenge: stoc,
  });
  return {
    tag: "action-request",
    kind: "normal",
    invoke,
    method: { classId: 15, instanceId: ASSOCIATION_LN, methodId: 1 },
    parameters: { type: "octet-string", value: fStoC },
  };
}

/** Pass 4: the meter accepted f(StoC) and proves itself with f(CtoS). */
export function checkPass4(
  response: ActionResponse,
  accepted: HlsAccepted,
  auth: HlsGmacSettings,
  ctos: Uint8Array,
  /** The meter's counter before the pass 3 reply: f(CtoS) must carry a fresher one. */
  floor: number | undefined,
): void {
  if (response.result !== 0) {
    throw new SecurityFailureError(
      "hls",
      "hls-pass-3",
      `HLS pass 3: the meter did not accept f(StoC) (action result ${response.result}): the authentication key (AUTH_KEY) or our system title is not what the meter expects`,
    );
  }
  const ret = response.returnParameters;
  const fCtoS = ret?.ok && ret.data.type === "octet-string" ? ret.data.value : undefined;
  if (!fCtoS) throw new SecurityFailureError("hls", "hls-pass-4", "HLS pass 4: the meter returned no f(CtoS)");
  let verdict: { ok: boolean; invocationCounter: number };
  try {
    verdict = verifyHlsGmacResponse(fCtoS, {
      systemTitle: accepted.serverSystemTitle,
      keys: auth.keys,
      challenge: ctos,
    });
  } catch (error) {
    throw new SecurityFailureError("hls", "hls-pass-4", `HLS pass 4: ${messageOf(error)}`);
  }
  if (!verdict.ok) {
    throw new SecurityFailureError(
      "hls",
      "hls-pass-4",
      `HLS pass 4: the meter's f(CtoS) does not verify with its system title ${toHex(accepted.serverSystemTitle, "")}: it does not hold our keys, or something between us answers in its name`,
    );
  }
  if (floor !== undefined && verdict.invocationCounter <= floor) {
    throw new SecurityFailureError(
      "hls",
      "replayed-counter",
      `HLS pass 4: f(CtoS) carries invocation counter ${verdict.invocationCounter}, not above the last accepted ${floor} (replayed)`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
