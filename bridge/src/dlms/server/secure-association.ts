// The meter's side of HLS-GMAC (mechanism 5) with ciphered APDUs, security suite 0, sans-IO: bytes of one request
// APDU in, bytes of the answer (or null) out. It opens the ciphered AARQ user-information and the glo-/general-glo
// requests, runs HLS pass 3/4 (ACTION on Association LN method 1), and hands plaintext to the ServerAssociation,
// whose answers it ciphers back. Randomness and the meter's persistent counters come from the caller.
import { DataAccessResult } from "../apdu/data-access-result.js";
import { exceptionServiceErrorName, exceptionStateErrorName } from "../apdu/diagnostics.js";
import { decodeApdu, encodeApdu } from "../apdu/index.js";
import { confirmedServiceError, readInitiateRequest } from "../apdu/initiate.js";
import type { Aare, Aarq, ActionRequest, ActionResponse, Apdu, ExceptionResponse } from "../apdu/types.js";
import { ByteReader } from "../codec/reader.js";
import { SecurityError } from "../security/errors.js";
import { type CipherKeys, SYSTEM_TITLE_LENGTH, unprotect } from "../security/gcm.js";
import { isCipheredTag, readEnvelope, type Unwrapped, unwrap, wrap } from "../security/glo.js";
import { checkChallenge, hlsGmacResponse, verifyHlsGmacResponse } from "../security/hls-gmac.js";
import type { SecurityPolicy } from "../security/security-control.js";
import { covers } from "../security/session.js";
import type { ServerAssociation } from "./association.js";

/** Association LN current association, method 1 reply_to_HLS_authentication. */
const ASSOCIATION_LN = Uint8Array.of(0, 0, 40, 0, 0, 255);
const REPLY_TO_HLS_AUTHENTICATION = 1;
/** glo tag + length (up to 3 bytes) + SC + IC + 12-byte tag. */
const CIPHERING_OVERHEAD = 1 + 3 + 5 + 12;
/** ConfirmedService initiateError, ServiceError application-reference (0) / deciphering-error (6). */
const INITIATE_ERROR = 1;
const APPLICATION_REFERENCE = 0;
const DECIPHERING_ERROR = 6;

/** The meter's security state that outlives one connection (the counters are persistent in a real meter). */
export interface MeterSecurityState {
  /** The meter's own invocation counter: the next value it uses. */
  nextServerCounter: number;
  /** Highest invocation counter accepted from each client SAP. */
  readonly clientCounters: Map<number, number>;
}

export interface SecureServerOptions {
  systemTitle: Uint8Array;
  keys: CipherKeys;
  /** Client SAPs that must use HLS-GMAC. */
  clients: ReadonlySet<number>;
  state: MeterSecurityState;
  /** A fresh StoC challenge (the caller owns randomness). */
  challenge(): Uint8Array;
  faults?: {
    /** Flip a bit in the tag of every ciphered GET/ACTION response after authentication. */
    badTag?: boolean;
    /** Reuse the same invocation counter for every ciphered response after pass 4. */
    replayCounter?: boolean;
  };
}

export type SecureEvent =
  | { type: "hls-rejected"; clientSap: number; step: string; reason: string }
  | { type: "hls-authenticated"; clientSap: number; policy: SecurityPolicy };

interface Pending {
  clientSap: number;
  clientSystemTitle: Uint8Array;
  ctos: Uint8Array;
  stoc: Uint8Array;
  policy: SecurityPolicy;
  authenticated: boolean;
}

export class SecureServerAssociation {
  private session: Pending | undefined;
  private readonly events: SecureEvent[] = [];

  constructor(
    private readonly inner: ServerAssociation,
    private readonly options: SecureServerOptions,
  ) {}

  takeEvents(): SecureEvent[] {
    return this.events.splice(0);
  }

  reset(): void {
    this.session = undefined;
    this.inner.reset();
  }

  /** Whether requests from this SAP go through HLS-GMAC. */
  serves(clientSap: number): boolean {
    return this.options.clients.has(clientSap);
  }

  /** Answers one request APDU (bytes) from an HLS client SAP. */
  handleBytes(bytes: Uint8Array, clientSap: number): Uint8Array | null {
    if (bytes.length > 0 && isCipheredTag(bytes[0]!)) return this.ciphered(bytes, clientSap);
    let request: Apdu;
    try {
      request = decodeApdu(bytes);
    } catch {
      const answer = this.inner.handleUndecodable();
      return answer ? encodeApdu(answer) : null;
    }
    if (request.tag === "aarq") return encodeApdu(this.associate(request, clientSap));
    if (request.tag === "rlrq") {
      this.session = undefined;
      const answer = this.inner.handle(request, clientSap);
      return answer ? encodeApdu(answer) : null;
    }
    // A plaintext service request on a ciphered association.
    return encodeApdu(exception(1, 1));
  }

  private reject(clientSap: number, step: string, reason: string, aare: Aare): Aare {
    this.events.push({ type: "hls-rejected", clientSap, step, reason });
    this.reset();
    return aare;
  }

  private associate(aarq: Aarq, clientSap: number): Aare | ExceptionResponse {
    this.reset();
    const o = this.options;
    const refuse = (diagnostic: number, name: string) => rejectingAare(diagnostic, name);
    if (aarq.applicationContext !== "ln-ciphered") {
      return this.reject(
        clientSap,
        "aarq",
        "application context is not LN with ciphering",
        refuse(2, "application-context-name-not-supported"),
      );
    }
    if (aarq.mechanism !== "high-gmac") {
      return this.reject(
        clientSap,
        "aarq",
        `mechanism ${aarq.mechanism ?? "none"} instead of high-gmac`,
        refuse(11, "authentication-mechanism-name-not-recognised"),
      );
    }
    const title = aarq.callingApTitle;
    if (!title || title.length !== SYSTEM_TITLE_LENGTH) {
      return this.reject(
        clientSap,
        "aarq",
        "calling-AP-title missing or not 8 bytes",
        refuse(3, "calling-AP-title-not-recognized"),
      );
    }
    const ctos = aarq.authenticationValue;
    try {
      if (!ctos) throw new Error("no CtoS challenge");
      checkChallenge(ctos, "the client's");
    } catch (error) {
      return this.reject(clientSap, "aarq", (error as Error).message, refuse(14, "authentication-required"));
    }
    const ui = aarq.userInformation;
    if (ui.tag !== "ciphered-user-information") {
      return this.reject(clientSap, "aarq", "InitiateRequest not ciphered", refuse(1, "no-reason-given"));
    }
    let opened: Unwrapped;
    try {
      opened = unwrap(ui.bytes, { systemTitle: title, keys: o.keys });
    } catch (error) {
      const akWrong = error instanceof SecurityError && this.decipherableWithOurBlockKey(ui.bytes, title);
      const reason = akWrong
        ? "glo-initiateRequest deciphers but its tag does not verify: authentication key differs"
        : "glo-initiateRequest does not decipher: block key differs";
      // The Green Book's answer to an undecipherable InitiateRequest is deciphering-error; when the block key
      // demonstrably works, authentication-failure tells the technician which key to look at.
      const aare = akWrong ? refuse(13, "authentication-failure") : decipheringErrorAare();
      return this.reject(clientSap, "aarq", reason, aare);
    }
    const last = o.state.clientCounters.get(clientSap);
    if (last !== undefined && opened.invocationCounter <= last) {
      // 62056-5-3 answers a stale counter with ExceptionResponse invocation-counter-error and the expected value.
      this.events.push({
        type: "hls-rejected",
        clientSap,
        step: "aarq",
        reason: `client invocation counter ${opened.invocationCounter} not above ${last}`,
      });
      this.reset();
      return { ...exception(1, 6), invocationCounter: last + 1 };
    }
    o.state.clientCounters.set(clientSap, opened.invocationCounter);
    let initiate: ReturnType<typeof readInitiateRequest>;
    try {
      const r = new ByteReader(opened.plaintext);
      r.skip(1, "InitiateRequest tag");
      initiate = readInitiateRequest(r);
    } catch {
      return this.reject(clientSap, "aarq", "deciphered InitiateRequest is malformed", decipheringErrorAare());
    }
    // Replies grow by the ciphering overhead: the plain association must keep them that much below the client's max.
    const maxPdu = initiate.clientMaxReceivePduSize;
    if (maxPdu !== 0) initiate = { ...initiate, clientMaxReceivePduSize: Math.max(16, maxPdu - CIPHERING_OVERHEAD) };
    const plain = this.inner.handle({ tag: "aarq", applicationContext: "ln", userInformation: initiate }, clientSap);
    if (plain?.tag !== "aare" || plain.result !== "accepted" || plain.userInformation?.tag !== "initiate-response") {
      const aare =
        plain?.tag === "aare" ? { ...plain, applicationContext: "ln-ciphered" as const } : refuse(1, "no-reason-given");
      return this.reject(clientSap, "aarq", "InitiateRequest refused", aare);
    }
    const stoc = o.challenge();
    this.session = { clientSap, clientSystemTitle: title, ctos, stoc, policy: opened.policy, authenticated: false };
    return {
      tag: "aare",
      applicationContext: "ln-ciphered",
      result: "accepted",
      diagnostic: { source: "user", code: 14, name: "authentication-required" },
      respondingApTitle: o.systemTitle,
      mechanism: "high-gmac",
      respondingAuthenticationValue: stoc,
      userInformation: {
        tag: "ciphered-user-information",
        bytes: this.wrapOut(encodeApdu(plain.userInformation), opened.policy, false),
      },
    };
  }

  /** With a tag mismatch: does our block key still turn the ciphertext into an InitiateRequest? */
  private decipherableWithOurBlockKey(bytes: Uint8Array, title: Uint8Array): boolean {
    try {
      const { content } = readEnvelope(bytes);
      if ((content[0]! & 0x20) === 0 || content.length < 5 + 12) return false;
      const encOnly = Uint8Array.from(content.subarray(0, content.length - 12));
      encOnly[0] = 0x20;
      const { plaintext } = unprotect({ systemTitle: title, keys: this.options.keys, content: encOnly, what: "probe" });
      const r = new ByteReader(plaintext);
      if (r.readUInt8() !== 0x01) return false;
      readInitiateRequest(r);
      return !r.isMore();
    } catch {
      return false;
    }
  }

  private ciphered(bytes: Uint8Array, clientSap: number): Uint8Array | null {
    const s = this.session;
    const o = this.options;
    if (!s || s.clientSap !== clientSap) return encodeApdu(exception(1, 1));
    let opened: Unwrapped;
    try {
      opened = unwrap(bytes, { systemTitle: s.clientSystemTitle, keys: o.keys });
    } catch (error) {
      this.events.push({ type: "hls-rejected", clientSap, step: "request", reason: (error as Error).message });
      return encodeApdu(exception(2, 5)); // deciphering-error
    }
    const last = o.state.clientCounters.get(clientSap) ?? -1;
    if (opened.invocationCounter <= last || !covers(opened.policy, s.policy)) {
      this.events.push({
        type: "hls-rejected",
        clientSap,
        step: "request",
        reason: `counter ${opened.invocationCounter} not above ${last} or weaker protection`,
      });
      return encodeApdu({ ...exception(2, 6), invocationCounter: last + 1 });
    }
    o.state.clientCounters.set(clientSap, opened.invocationCounter);
    let request: Apdu;
    try {
      request = decodeApdu(opened.plaintext);
    } catch {
      const answer = this.inner.handleUndecodable();
      return answer ? encodeApdu(answer) : null;
    }
    if (!s.authenticated) {
      if (request.tag !== "action-request" || !isReplyToHls(request)) return encodeApdu(exception(1, 1));
      return this.wrapOut(encodeApdu(this.pass3(request, s)), s.policy, false);
    }
    const answer = this.inner.handle(request, clientSap);
    if (!answer) return null;
    const encoded = encodeApdu(answer);
    if (answer.tag === "exception-response") return encoded;
    return this.wrapOut(encoded, s.policy, true);
  }

  private pass3(request: ActionRequest, s: Pending): ActionResponse {
    const o = this.options;
    const base = { tag: "action-response" as const, kind: "normal" as const, invoke: request.invoke };
    const p = request.parameters;
    const fStoC = p?.type === "octet-string" ? p.value : undefined;
    let verified = false;
    try {
      verified =
        !!fStoC &&
        verifyHlsGmacResponse(fStoC, { systemTitle: s.clientSystemTitle, keys: o.keys, challenge: s.stoc }).ok;
    } catch {
      verified = false;
    }
    if (!verified) {
      this.events.push({
        type: "hls-rejected",
        clientSap: s.clientSap,
        step: "hls-pass-3",
        reason: "f(StoC) does not verify",
      });
      return { ...base, result: DataAccessResult["other-reason"] };
    }
    s.authenticated = true;
    this.events.push({ type: "hls-authenticated", clientSap: s.clientSap, policy: s.policy });
    const fCtoS = hlsGmacResponse({
      systemTitle: o.systemTitle,
      invocationCounter: this.nextCounter(false),
      keys: o.keys,
      challenge: s.ctos,
    });
    return { ...base, result: 0, returnParameters: { ok: true, data: { type: "octet-string", value: fCtoS } } };
  }

  private nextCounter(afterAuthentication: boolean): number {
    const state = this.options.state;
    if (afterAuthentication && this.options.faults?.replayCounter) return Math.max(0, state.nextServerCounter - 1);
    return state.nextServerCounter++;
  }

  private wrapOut(apdu: Uint8Array, policy: SecurityPolicy, afterAuthentication: boolean): Uint8Array {
    const o = this.options;
    const out = wrap({
      kind: "glo",
      policy,
      systemTitle: o.systemTitle,
      invocationCounter: this.nextCounter(afterAuthentication),
      keys: o.keys,
      apdu,
    });
    if (afterAuthentication && o.faults?.badTag && policy !== "enc") out[out.length - 1]! ^= 0x01;
    return out;
  }
}

function isReplyToHls(r: ActionRequest): boolean {
  return (
    r.method.classId === 15 &&
    r.method.methodId === REPLY_TO_HLS_AUTHENTICATION &&
    r.method.instanceId.every((v, i) => v === ASSOCIATION_LN[i])
  );
}

function rejectingAare(code: number, name: string): Aare {
  return {
    tag: "aare",
    applicationContext: "ln-ciphered",
    result: "rejected-permanent",
    diagnostic: { source: "user", code, name },
  };
}

function decipheringErrorAare(): Aare {
  return {
    ...rejectingAare(1, "no-reason-given"),
    userInformation: confirmedServiceError(INITIATE_ERROR, APPLICATION_REFERENCE, DECIPHERING_ERROR),
  };
}

function exception(stateError: number, serviceError: number): ExceptionResponse {
  return {
    tag: "exception-response",
    stateError,
    stateErrorName: exceptionStateErrorName(stateError),
    serviceError,
    serviceErrorName: exceptionServiceErrorName(serviceError),
  };
}
