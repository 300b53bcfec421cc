// The async DLMS client: joins a Transport to the sans-IO core (data link + APDU codec), one request at a time.
// It owns what the core must not: sockets, timers, the request queue, invoke-id matching and error mapping.
import { buildAarq } from "../dlms/apdu/builders.js";
import { conformanceNames, DEFAULT_CLIENT_CONFORMANCE, hasConformance } from "../dlms/apdu/conformance.js";
import { decodeApduLenient, describeApdu, encodeApdu } from "../dlms/apdu/index.js";
import { InvokeIdCounter } from "../dlms/apdu/invoke.js";
import type {
  Aare,
  ActionResponse,
  Apdu,
  AttributeRequest,
  GetDataResult,
  GetRequest,
  GetResponse,
  InvokeIdAndPriority,
} from "../dlms/apdu/types.js";
import type { DlmsData } from "../dlms/axdr/types.js";
import { DecodeError, type DlmsError, RemoteProtocolError, SizeLimitError } from "../dlms/errors.js";
import { decodeFrame, describeFrame } from "../dlms/hdlc/frame.js";
import { parametersKey, sharedParameters } from "../dlms/hdlc/params.js";
import { InternTable } from "../dlms/intern.js";
import type { DataLink, HdlcParameters, LinkEvent } from "../dlms/link.js";
import { type CipherSession, cipheredName, isCipheredTag } from "../dlms/security/index.js";
import { type Transport, TransportError, type TransportEvent } from "../transport/types.js";
import {
  AssociationRejectedError,
  ClientError,
  type ClientStep,
  ConnectionClosedError,
  ExceptionResponseError,
  ProtocolViolationError,
  ReplyTooLargeError,
  RequestDeadlineError,
  SecurityFailureError,
  TimeoutError,
} from "./errors.js";
import { Exclusive } from "./exclusive.js";
import { splitForPduOnce } from "./get-list.js";
import { dataAccessError, type GetExchange, getNormal, getWithList, type RequestProgress } from "./get-service.js";
import { getStreaming } from "./get-stream.js";
import {
  acceptHlsAare,
  asSecurityFailure,
  buildHlsAarq,
  buildPass3,
  CIPHERING_OVERHEAD,
  checkPass4,
  nextCounter,
  securityRejection,
} from "./hls-gmac.js";
import { createClientLink } from "./link-factory.js";
import { maskSecret } from "./secret-mask.js";
import type { AssociationInfo, DlmsClientApi, DlmsClientOptions, HlsGmacSettings } from "./types.js";
import { type ClientEvent, ReplyWaiter, type WaitProgress, type WaitSpec } from "./waiter.js";
import type { What } from "./what.js";

export const DEFAULT_MAX_RECEIVE_PDU_SIZE = 1024;
/** Largest reply accepted by default: a big load profile fits, a meter that never stops sending does not. */
export const DEFAULT_MAX_REPLY_BYTES = 256 * 1024;
/** Default request deadline, as a multiple of the per-step timeout. */
export const DEFAULT_DEADLINE_TIMEOUTS = 6;

type ClientState = "idle" | "connecting" | "associated" | "releasing" | "closed";

/**
 * The async client. It is also the GET procedures' exchange (get-service.ts: begin, request, nextInvoke, warn): the
 * object of closures it used to build for them was ≈ 0.2 kB per meter (BENCHMARKS.md, issue 9, seventh round).
 */
export class DlmsClient implements DlmsClientApi, GetExchange {
  private readonly transport: Transport;
  private readonly invokeIds = new InvokeIdCounter();
  private readonly secret: Uint8Array | undefined;
  private link: DataLink | undefined;
  private state: ClientState = "idle";
  private readonly waiter: ReplyWaiter;
  readonly maxReplyBytes: number;
  private readonly requestDeadlineMs: number;
  /** connect, GETs and release, one at a time in call order. */
  private readonly lock = new Exclusive();
  private info: AssociationInfo | undefined;
  private txSummary = "";
  private staleCount = 0;
  private withListRefused = false;
  private heldRx: { bytes: Uint8Array; summary: string } | undefined;
  /** Ciphering of an HLS-GMAC association, set once the AARE is accepted. */
  private cipher: CipherSession | undefined;
  /** Invoke id and description of the GET request in flight, for matchGetResponse. */
  private awaited = -1;
  private awaitedWhat: What = "";

  constructor(private readonly options: DlmsClientOptions) {
    if (!(options.timeoutMs > 0)) throw new ClientError("connect", `timeoutMs must be > 0, got ${options.timeoutMs}`);
    this.maxReplyBytes = options.maxReplyBytes ?? DEFAULT_MAX_REPLY_BYTES;
    if (!(Number.isInteger(this.maxReplyBytes) && this.maxReplyBytes > 0)) {
      throw new ClientError("connect", `maxReplyBytes must be a positive integer, got ${options.maxReplyBytes}`);
    }
    this.requestDeadlineMs = options.requestDeadlineMs ?? DEFAULT_DEADLINE_TIMEOUTS * options.timeoutMs;
    if (!(this.requestDeadlineMs > 0)) {
      throw new ClientError("connect", `requestDeadlineMs must be > 0, got ${options.requestDeadlineMs}`);
    }
    this.transport = options.transport;
    this.waiter = new ReplyWaiter(options.timeoutMs);
    this.secret = options.auth.mechanism === "low" ? new TextEncoder().encode(options.auth.password) : undefined;
    this.transport.onEvent((event) => this.onTransportEvent(event));
  }

  get connected(): boolean {
    return this.state === "associated";
  }

  get association(): AssociationInfo | undefined {
    return this.info;
  }

  /** Replies discarded because nobody waited for them or their invoke id did not match the request. */
  get discardedResponses(): number {
    return this.staleCount;
  }

  connect(): Promise<AssociationInfo> {
    return this.serialize(() => this.doConnect());
  }

  get(attribute: AttributeRequest): Promise<DlmsData> {
    return this.serializeBounded(async () => {
      this.requireAssociated("get");
      const result = await getNormal(this, attribute);
      if (!result.ok) throw dataAccessError(result.error, attribute);
      return result.data;
    });
  }

  /** GET whose raw value goes to `onBytes` block by block as it arrives (see client/get-stream.ts). */
  getStream(attribute: AttributeRequest, onBytes: (chunk: Uint8Array) => void): Promise<void> {
    return this.serializeBounded(async () => {
      this.requireAssociated("get");
      await getStreaming(this, attribute, onBytes);
    });
  }

  getMany(attributes: AttributeRequest[]): Promise<GetDataResult[]> {
    return this.serializeBounded(async () => {
      this.requireAssociated("get");
      const info = this.info!;
      const results: GetDataResult[] = [];
      const readSequentially = async (list: AttributeRequest[]) => {
        for (const attribute of list) results.push(await getNormal(this, attribute));
      };
      if (attributes.length <= 1 || !info.multipleReferences || this.withListRefused) {
        await readSequentially(attributes);
        return results;
      }
      const overhead = this.cipher ? CIPHERING_OVERHEAD : 0;
      const chunks = splitForPduOnce(attributes, info.serverMaxReceivePduSize - overhead, (r) => encodeApdu(r).length);
      for (const [i, chunk] of chunks.entries()) {
        try {
          results.push(...(await getWithList(this, chunk)));
        } catch (error) {
          // A meter that grants multiple-references yet refuses the service: stop asking for this association.
          if (!(error instanceof ExceptionResponseError)) throw error;
          this.withListRefused = true;
          await readSequentially(chunks.slice(i).flat());
          break;
        }
      }
      return results;
    });
  }

  release(): Promise<void> {
    return this.serialize(() => this.doRelease());
  }

  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.waiter.failWith((w) => new ConnectionClosedError(w.step, `connection closed by the client during ${w.what}`));
    this.waiter.dispose();
    this.transport.close();
  }

  // ---- connect / release ------------------------------------------------------------------------------------

  private async doConnect(): Promise<AssociationInfo> {
    if (this.state !== "idle") {
      throw new ClientError("connect", `connect() on a client that is ${this.state}: create a new DlmsClient`);
    }
    this.state = "connecting";
    try {
      await this.transport.open();
    } catch (error) {
      this.state = "closed";
      throw connectError(error, this.options.timeoutMs);
    }
    const link = createClientLink(this.options.link, this.maxReplyBytes);
    this.link = link;
    try {
      if (link.kind === "hdlc") {
        if (this.options.discFirst) await this.discBeforeSnrm(link);
        const params = await this.openLink(link);
        this.info = await this.associate(params);
      } else {
        link.connect();
        this.pump();
        this.info = await this.associate(undefined);
      }
      this.state = "associated";
      return this.info;
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) await this.bestEffortDisc();
      this.close();
      throw error;
    }
  }

  private async discBeforeSnrm(link: DataLink): Promise<void> {
    this.sendLinkControl(() => link.disconnect(), "(free a meter left busy)");
    // UA or DM both mean the meter is free; silence is tolerated (it may simply not answer out of a session).
    await this.waitTolerant({ step: "snrm", what: "DISC before SNRM", match: (e) => e.type === "disconnected" });
  }

  private async openLink(link: DataLink): Promise<HdlcParameters | undefined> {
    this.sendLinkControl(() => link.connect(), "");
    const outcome = await this.wait({
      step: "snrm",
      what: "SNRM",
      match: (e) => (e.type === "connected" || e.type === "disconnected" ? e : undefined),
      hint: "no answer to SNRM: check the server/physical address and the client SAP",
    });
    if (outcome?.type === "disconnected") {
      throw new ClientError(
        "snrm",
        `the meter answered SNRM with ${outcome.reason.toUpperCase()}: it refuses the link (busy with another client? try discFirst)`,
      );
    }
    return outcome?.type === "connected" ? outcome.params : undefined;
  }

  private async associate(params: HdlcParameters | undefined): Promise<AssociationInfo> {
    const { auth } = this.options;
    if (auth.mechanism === "hls-gmac") return this.associateHls(params, auth);
    const aarq = buildAarq({
      mechanism: auth.mechanism,
      ...(this.secret ? { password: this.secret } : {}),
      conformance: this.options.proposedConformance ?? DEFAULT_CLIENT_CONFORMANCE,
      maxReceivePduSize: this.options.maxReceivePduSize ?? DEFAULT_MAX_RECEIVE_PDU_SIZE,
    });
    this.sendApdu(encodeApdu(aarq), `AARQ mechanism=${auth.mechanism}${this.secret ? " (password masked)" : ""}`);
    const aare = await this.wait({ step: "aarq", what: "AARQ", match: (e) => acceptAare(e) });
    if (aare.result !== "accepted") {
      throw associationRejected(aare);
    }
    const initiate = aare.userInformation;
    if (initiate?.tag !== "initiate-response") {
      const why =
        initiate?.tag === "confirmed-service-error"
          ? `initiate error ${initiate.errorName}`
          : initiate
            ? "a ciphered InitiateResponse on a plain association"
            : "no InitiateResponse";
      throw new ClientError("aarq", `association accepted but unusable: ${why}`);
    }
    return associationInfo(initiate, params);
  }

  /** HLS-GMAC: AARQ with glo-initiateRequest and CtoS, AARE with StoC, then pass 3/4 ciphered. */
  private async associateHls(params: HdlcParameters | undefined, auth: HlsGmacSettings): Promise<AssociationInfo> {
    const security = (check: string) => this.options.onSecurityFailure?.(check);
    try {
      const start = buildHlsAarq(auth, {
        ...(this.options.proposedConformance !== undefined ? { conformance: this.options.proposedConformance } : {}),
        maxReceivePduSize: this.options.maxReceivePduSize ?? DEFAULT_MAX_RECEIVE_PDU_SIZE,
      });
      this.sendApdu(
        encodeApdu(start.aarq),
        `AARQ mechanism=high-gmac ${auth.policy} glo-initiateRequest IC=${start.invocationCounter}`,
      );
      let aare: Aare;
      try {
        aare = await this.wait({ step: "aarq", what: "AARQ", match: (e) => acceptAare(e) });
      } catch (error) {
        if (error instanceof ExceptionResponseError && error.serviceError === "invocation-counter-error") {
          const expected = error.invocationCounter;
          if (expected !== undefined) auth.counter.raiseTo?.(expected);
          throw new SecurityFailureError(
            "aarq",
            "invocation-counter",
            `the meter refused our invocation counter ${start.invocationCounter}${expected === undefined ? "" : `: it expects at least ${expected} (raised for the next attempt)`}`,
            expected,
          );
        }
        throw error;
      }
      if (aare.result !== "accepted") {
        const rejection = securityRejection(aare);
        if (rejection) throw rejection;
        throw associationRejected(aare);
      }
      const accepted = acceptHlsAare(aare, auth);
      this.cipher = accepted.session;
      const floor = accepted.session.lastPeerCounter;
      const pass3 = buildPass3(auth, accepted.stoc, this.invokeIds.next());
      this.sendProtected(encodeApdu(pass3), describeApdu(pass3), "hls");
      const invokeId = pass3.invoke.invokeId;
      const reply = await this.wait<ActionResponse>({
        step: "hls",
        what: "HLS pass 3 (reply_to_HLS_authentication)",
        match: (e) => {
          if (e.type !== "apdu") return undefined;
          if (e.apdu.tag === "action-response") return e.apdu.invoke.invokeId === invokeId ? e.apdu : undefined;
          if (e.apdu.tag === "exception-response") {
            throw new SecurityFailureError(
              "hls",
              "hls-pass-3",
              `HLS pass 3 answered with exception-response ${e.apdu.stateErrorName}/${e.apdu.serviceErrorName}`,
            );
          }
          return undefined;
        },
      });
      checkPass4(reply, accepted, auth, start.ctos, floor);
      auth.onServerCounter?.(accepted.session.lastPeerCounter ?? 0);
      return associationInfo(accepted.initiate, params);
    } catch (error) {
      if (error instanceof SecurityFailureError) security(error.check);
      throw error;
    }
  }

  /** Sends an APDU ciphered with the next invocation counter (HLS-GMAC associations). */
  private sendProtected(apdu: Uint8Array, summary: string, step: ClientStep): void {
    const cipher = this.cipher!;
    const auth = this.options.auth as HlsGmacSettings;
    const ic = nextCounter(auth, step);
    const bytes = cipher.protect(apdu, ic);
    this.sendApdu(bytes, `${cipheredName(bytes[0]!) ?? "ciphered"} ${cipher.policy} IC=${ic} [${summary}]`);
  }

  private async doRelease(): Promise<void> {
    if (this.state !== "associated") {
      this.close();
      return;
    }
    this.state = "releasing";
    try {
      this.sendApdu(encodeApdu({ tag: "rlrq", reason: 0 }), "RLRQ");
      // Meters without RLRQ/RLRE either stay silent or answer an exception: both are tolerated.
      await this.waitTolerant({ step: "release", what: "RLRQ", match: matchRelease });
      await this.bestEffortDisc();
    } catch (error) {
      if (!(error instanceof ConnectionClosedError)) throw error;
    } finally {
      this.close();
    }
  }

  /** HDLC: DISC and wait for UA/DM, tolerating silence; wrapper: nothing to do. */
  private async bestEffortDisc(): Promise<void> {
    const link = this.link;
    if (link?.kind !== "hdlc" || !link.isConnected || this.state === "closed") return;
    try {
      this.sendLinkControl(() => link.disconnect(), "");
      await this.waitTolerant({ step: "release", what: "DISC", match: (e) => e.type === "disconnected" });
    } catch {
      // The link is being dropped anyway; a failing DISC changes nothing for the caller.
    }
  }

  // ---- GetExchange (for get-service.ts and get-stream.ts; callers use get, getMany and getStream) ----------------

  begin(what: What): RequestProgress {
    return { what, deadlineAt: Date.now() + this.requestDeadlineMs, blocks: 0, bytes: 0 };
  }

  nextInvoke(): InvokeIdAndPriority {
    return this.invokeIds.next();
  }

  warn(error: DlmsError): void {
    this.options.onDiscarded?.(error);
  }

  /**
   * Sends one GET request and waits for the GET response carrying its invoke id, within the request deadline.
   * Not async: the waiter's promise is handed back as it is (an async function would wrap it in one more promise,
   * settled microtasks later); a failure before the wait is a rejection all the same.
   */
  request(request: GetRequest, what: What, progress: RequestProgress): Promise<GetResponse> {
    let left: number;
    try {
      this.requireAssociated("get");
      left = progress.deadlineAt - Date.now();
      if (left <= 0) throw this.deadlineError(progress, 0);
      // The description is for traces only: not built per request when nobody traces.
      const summary = this.options.onFrame ? describeApdu(request) : "";
      if (this.cipher) this.sendProtected(encodeApdu(request), summary, "get");
      else this.sendApdu(encodeApdu(request), summary);
    } catch (error) {
      return Promise.reject(error);
    }
    this.awaited = request.invoke.invokeId;
    this.awaitedWhat = what;
    // The deadline, when nearer than the step timeout, ends the wait with its own error.
    const deadlineFirst = left < this.options.timeoutMs;
    return this.wait({
      step: "get",
      what,
      match: this.matchGetResponse,
      timeoutMs: deadlineFirst ? left : undefined,
      timeoutError: deadlineFirst ? (seen: WaitProgress) => this.deadlineError(progress, seen.frames) : undefined,
    });
  }

  /** The GET response to the request in flight (one at a time: `awaited` is its invoke id), made once. */
  private readonly matchGetResponse = (e: ClientEvent): GetResponse | undefined => {
    if (e.type !== "apdu") return undefined;
    const apdu = e.apdu;
    if (apdu.tag === "get-response") {
      if (apdu.invoke.invokeId !== this.awaited) return undefined;
      this.awaitedWhat = ""; // not kept (with its text) on an idle client until the next GET
      return apdu;
    }
    if (apdu.tag === "exception-response") throw exceptionError("get", apdu);
    if (apdu.tag === "confirmed-service-error") {
      throw new ProtocolViolationError(
        "get",
        `${this.awaitedWhat} answered with confirmed-service-error ${apdu.errorName}`,
      );
    }
    return undefined;
  };

  private deadlineError(progress: RequestProgress, frames: number): RequestDeadlineError {
    const seconds = this.requestDeadlineMs / 1000;
    const unfinished = frames > 0 ? `, ${frames} frame(s) of an unfinished reply` : "";
    return new RequestDeadlineError(
      "get",
      `request deadline of ${seconds} s passed for ${progress.what} after ${progress.blocks} block(s) (${progress.bytes} bytes)${unfinished}`,
      this.requestDeadlineMs,
    );
  }

  // ---- plumbing -------------------------------------------------------------------------------------------------

  /**
   * serialize() for GETs: a reply over maxReplyBytes or past its deadline leaves the meter mid-answer, so the
   * association is dropped (its buffers with it) rather than reused.
   */
  private serializeBounded<T>(operation: () => Promise<T>): Promise<T> {
    return this.lock.run(operation, this.dropIfOverrun);
  }

  private readonly dropIfOverrun = (error: unknown): void => {
    if (error instanceof ReplyTooLargeError || error instanceof RequestDeadlineError) this.close();
  };

  /** Runs operations one after another: one request at a time per association. */
  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    return this.lock.run(operation);
  }

  private requireAssociated(step: ClientStep): void {
    if (this.state === "associated" || (this.state === "releasing" && step === "release")) return;
    throw new ConnectionClosedError(step, `not associated (client is ${this.state})`);
  }

  /** Waits for a reply; TimeoutError when none comes. */
  private wait<T>(spec: WaitSpec<T>): Promise<T> {
    if (this.state === "closed") return Promise.reject(closedBefore(spec.step, spec.what));
    return this.waiter.wait(spec);
  }

  /** Waits for a reply the meter may legitimately never send (RLRQ, DISC): undefined on timeout. */
  private waitTolerant<T>(spec: WaitSpec<T>): Promise<T | undefined> {
    if (this.state === "closed") return Promise.reject(closedBefore(spec.step, spec.what));
    return this.waiter.waitTolerant(spec);
  }

  private sendApdu(apdu: Uint8Array, summary: string): void {
    const link = this.link;
    if (!link) throw new ConnectionClosedError("connect", "no data link");
    this.txSummary = summary;
    link.sendApdu(apdu);
    this.flush();
  }

  private sendLinkControl(queue: () => void, summary: string): void {
    this.txSummary = summary;
    queue();
    this.flush();
  }

  /** Writes every queued frame, each shown to onFrame first (with the password masked). */
  private flush(): void {
    const link = this.link;
    if (!link || this.state === "closed") return;
    const frames = link.takeOutgoing();
    for (const frame of frames) {
      this.options.onFrameSize?.("tx", frame.length);
      this.options.onFrame?.("tx", maskSecret(frame, this.secret), this.describeTx(link, frame));
      try {
        this.transport.write(frame);
      } catch (error) {
        this.onTransportClosed(error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
    this.txSummary = "";
  }

  /** Trace line of an outgoing frame: its link-level summary plus what the client meant to send. */
  private describeTx(link: DataLink, frame: Uint8Array): string {
    let head: string;
    if (link.kind === "wrapper") head = `WPDU ${Math.max(0, frame.length - 8)}B`;
    else {
      try {
        head = describeFrame(decodeFrame(frame));
      } catch (error) {
        head = `unparsable frame (${messageOf(error)})`;
      }
    }
    return this.txSummary ? `${head} ${this.txSummary}` : head;
  }

  private onTransportEvent(event: TransportEvent): void {
    if (event.type === "closed") {
      this.onTransportClosed(event.error);
      return;
    }
    const link = this.link;
    if (!link || this.state === "closed") return;
    try {
      link.receiveData(event.bytes);
    } catch (error) {
      this.waiter.failWith(
        (w) => new ProtocolViolationError(w.step, `link error during ${w.what}: ${messageOf(error)}`),
      );
    }
    this.pump();
    this.flush(); // the link may owe the peer an RR (segmented reply) or a UA
  }

  /** Drains the link's events into the waiter, or the default handling when nobody wants them. */
  private pump(): void {
    const link = this.link;
    if (!link) return;
    for (let event = link.nextEvent(); event && this.state !== "closed"; event = link.nextEvent()) {
      this.onLinkEvent(event);
    }
    this.traceHeldRx();
  }

  /**
   * The frame that completes an APDU is traced together with the APDU's description ("GET.res normal ..."), so
   * a received frame is held until the next link event says whether an APDU came out of it.
   */
  private traceHeldRx(apdu?: Apdu, envelope?: string): void {
    const held = this.heldRx;
    if (!held) return;
    this.heldRx = undefined;
    const inner = apdu ? describeApdu(apdu) : "";
    const what = envelope ? `${envelope}${inner ? ` [${inner}]` : ""}` : inner;
    this.options.onFrame?.("rx", held.bytes, what ? `${held.summary} ${what}` : held.summary);
  }

  private onLinkEvent(event: LinkEvent): void {
    switch (event.type) {
      case "frame":
        this.waiter.noteFrame();
        this.options.onFrameSize?.("rx", event.bytes.length);
        this.traceHeldRx();
        if (this.options.onFrame) this.heldRx = { bytes: event.bytes, summary: event.summary };
        return;
      case "discarded":
        this.waiter.noteDiscarded((event.error as { code?: string }).code ?? event.error.name);
        this.options.onDiscarded?.(event.error);
        if (event.error instanceof SizeLimitError) this.abortOversized(event.error);
        return;
      case "connected":
        this.waiter.offer(event);
        return;
      case "disconnected":
        if (this.waiter.offer(event)) return;
        if (this.state !== "closed" && this.state !== "idle") {
          // The meter ended the link on its own (DISC/DM): nothing more will come.
          this.waiter.failWith(
            (w) => new ConnectionClosedError(w.step, `the meter closed the link (${event.reason}) during ${w.what}`),
          );
          this.close();
        }
        return;
      case "apdu":
        this.onApdu(event.apdu);
    }
  }

  private onApdu(received: Uint8Array): void {
    let bytes = received;
    let envelope: string | undefined;
    if (this.cipher) {
      const opened = this.openCiphered(received);
      if (!opened) return;
      bytes = opened.bytes;
      envelope = opened.envelope;
    }
    let apdu: Apdu;
    try {
      const decoded = decodeApduLenient(bytes);
      apdu = decoded.apdu;
      this.traceHeldRx(apdu, envelope);
      if (decoded.trailing.length > 0) {
        // Seen in the field (a clock reply followed by a copy of itself): keep the PDU, surface the garbage.
        const n = decoded.trailing.length;
        this.options.onDiscarded?.(new DecodeError("malformed", `${n} trailing byte(s) after ${apdu.tag} ignored`));
      }
    } catch (error) {
      this.traceHeldRx();
      const decodeError = error instanceof DecodeError ? error : new DecodeError("malformed", messageOf(error));
      this.options.onDiscarded?.(decodeError);
      this.waiter.failWith(
        (w) => new ProtocolViolationError(w.step, `undecodable reply to ${w.what}: ${decodeError.message}`),
      );
      return;
    }
    if (this.waiter.offer({ type: "apdu", apdu })) return;
    this.staleCount++;
    this.options.onDiscarded?.(staleReplyError(apdu, this.waiter.waitingFor));
    // The stale reply ended the meter's turn (HDLC F bit): poll so the reply we wait for is sent (flushed by caller).
    if (this.waiter.waiting) this.link?.poll?.();
  }

  /** The link stopped collecting a reply over the bound: fail the request and drop the association. */
  private abortOversized(error: SizeLimitError): void {
    const limit = this.maxReplyBytes;
    this.waiter.failWith(
      (w) => new ReplyTooLargeError(w.step, limit, `reply to ${w.what} larger than ${limit} bytes (${error.message})`),
    );
    this.close();
  }

  /**
   * On a ciphered association: opens a glo-/general-glo APDU (tag, protection level and the meter's counter
   * checked). Exception-responses and ACSE APDUs pass in clear; any other plaintext reply is refused.
   * undefined = refused: the pending request fails with a SecurityFailureError naming the check.
   */
  private openCiphered(bytes: Uint8Array): { bytes: Uint8Array; envelope?: string } | undefined {
    const cipher = this.cipher!;
    const tag = bytes[0] ?? 0;
    if (!isCipheredTag(tag)) {
      // ExceptionResponse has no ciphered form; ACSE APDUs (AARE, RLRE) travel in clear.
      if (tag === 0xd8 || tag === 0x61 || tag === 0x63) return { bytes };
      return this.refuseReply(
        new SecurityFailureError(
          "get",
          "not-protected",
          `a plaintext APDU (tag 0x${tag.toString(16)}) on a ciphered association`,
        ),
        "plaintext reply refused",
      );
    }
    try {
      const opened = cipher.unprotect(bytes);
      this.options.auth.mechanism === "hls-gmac" && this.options.auth.onServerCounter?.(opened.invocationCounter);
      return { bytes: opened.plaintext, envelope: `${opened.name} ${opened.policy} IC=${opened.invocationCounter}` };
    } catch (error) {
      const failure = asSecurityFailure(error, "get");
      return this.refuseReply(failure, `${cipheredName(tag)} refused`);
    }
  }

  private refuseReply(error: Error, trace: string): undefined {
    this.traceHeldRx(undefined, trace);
    const check = error instanceof SecurityFailureError ? error.check : "not-protected";
    this.options.onSecurityFailure?.(check);
    this.options.onDiscarded?.(new DecodeError("malformed", error.message));
    this.waiter.failWith((w) =>
      error instanceof SecurityFailureError
        ? new SecurityFailureError(w.step, error.check, `${w.what}: ${error.message}`)
        : new ProtocolViolationError(w.step, `${w.what}: ${error.message}`),
    );
    return undefined;
  }

  private onTransportClosed(error?: Error): void {
    if (this.state === "closed") return;
    const cause = error ? `: ${error.message}` : "";
    this.waiter.failWith((w) => new ConnectionClosedError(w.step, `connection lost during ${w.what}${cause}`));
    this.waiter.dispose();
    this.state = "closed";
    this.transport.close();
  }
}

// ---- helpers ------------------------------------------------------------------------------------------------------

const associationTable = new InternTable<AssociationInfo>();

/**
 * What the association agreed, frozen and shared by every client that agreed the same: meters of one type all do,
 * and a copy of it (its conformance names included) was ≈ 0.2 kB per meter (BENCHMARKS.md, issue 9, seventh round).
 */
function associationInfo(
  initiate: { negotiatedConformance: number; serverMaxReceivePduSize: number },
  params: HdlcParameters | undefined,
): AssociationInfo {
  const conformance = initiate.negotiatedConformance;
  const pdu = initiate.serverMaxReceivePduSize;
  const hdlc = params ? parametersKey(params) : "-";
  return associationTable.get(`${conformance}:${pdu}:${hdlc}`, () =>
    Object.freeze({
      negotiatedConformance: conformance,
      conformanceNames: Object.freeze(conformanceNames(conformance)),
      serverMaxReceivePduSize: pdu,
      multipleReferences: hasConformance(conformance, "multiple-references"),
      ...(params ? { hdlc: sharedParameters(params) } : {}),
    }),
  );
}

function acceptAare(e: ClientEvent): Aare | undefined {
  if (e.type !== "apdu") return undefined;
  const apdu = e.apdu;
  if (apdu.tag === "aare") return apdu;
  if (apdu.tag === "exception-response") throw exceptionError("aarq", apdu);
  if (apdu.tag === "confirmed-service-error") {
    throw new ClientError("aarq", `AARQ answered with confirmed-service-error ${apdu.errorName}`);
  }
  return undefined;
}

function closedBefore(step: ClientStep, what: What): ConnectionClosedError {
  return new ConnectionClosedError(step, `connection closed before ${what}`);
}

function matchRelease(e: ClientEvent): true | undefined {
  if (e.type !== "apdu") return undefined;
  const tag = e.apdu.tag;
  return tag === "rlre" || tag === "exception-response" || tag === "confirmed-service-error" ? true : undefined;
}

function connectError(error: unknown, timeoutMs: number): ClientError {
  if (error instanceof TransportError) {
    if (error.kind === "timeout") return new TimeoutError("connect", error.message, timeoutMs);
    return new ClientError("connect", error.message, { cause: error });
  }
  return new ClientError("connect", `cannot open the connection: ${messageOf(error)}`, { cause: error });
}

function exceptionError(step: ClientStep, apdu: Extract<Apdu, { tag: "exception-response" }>): ExceptionResponseError {
  return new ExceptionResponseError(step, apdu.stateErrorName, apdu.serviceErrorName, apdu.invocationCounter);
}

function staleReplyError(apdu: Apdu, waitingFor: string | undefined): DlmsError {
  const invoke = "invoke" in apdu ? ` invoke id ${apdu.invoke.invokeId}` : "";
  const context = waitingFor ? `while waiting for ${waitingFor}` : "with no request pending";
  return new RemoteProtocolError("unexpected-frame", `discarded ${apdu.tag}${invoke} received ${context}`);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A rejecting AARE as an error: result, diagnostic and, when the meter sent one, its initiate error. */
function associationRejected(aare: Aare): AssociationRejectedError {
  const ui = aare.userInformation;
  return new AssociationRejectedError(
    aare.result,
    aare.diagnostic.name,
    aare.diagnostic.code,
    ui?.tag === "confirmed-service-error" ? `initiate error: ${ui.errorName}` : undefined,
  );
}
