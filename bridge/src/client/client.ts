// The async DLMS client: joins a Transport to the sans-IO core (data link + APDU codec), one request at a time.
// It owns what the core must not: sockets, timers, the request queue, invoke-id matching and error mapping.
import { buildAarq } from "../dlms/apdu/builders.js";
import { conformanceNames, DEFAULT_CLIENT_CONFORMANCE, hasConformance } from "../dlms/apdu/conformance.js";
import { dataAccessResultName } from "../dlms/apdu/data-access-result.js";
import { decodeApduLenient, describeApdu, encodeApdu } from "../dlms/apdu/index.js";
import { InvokeIdCounter } from "../dlms/apdu/invoke.js";
import type {
  Aare,
  Apdu,
  AttributeRequest,
  GetDataResult,
  GetRequest,
  GetResponse,
  InvokeIdAndPriority,
} from "../dlms/apdu/types.js";
import { decodeDataLenient } from "../dlms/axdr/index.js";
import type { DlmsData } from "../dlms/axdr/types.js";
import { formatObis } from "../dlms/cosem/obis.js";
import { DataAccessError, DecodeError, type DlmsError, RemoteProtocolError } from "../dlms/errors.js";
import { decodeFrame, describeFrame } from "../dlms/hdlc/frame.js";
import type { DataLink, HdlcParameters, LinkEvent } from "../dlms/link.js";
import { type Transport, TransportError, type TransportEvent } from "../transport/types.js";
import {
  AssociationRejectedError,
  ClientError,
  type ClientStep,
  ConnectionClosedError,
  ExceptionResponseError,
  ProtocolViolationError,
  TimeoutError,
} from "./errors.js";
import { decodeGetDataResultList, splitForPdu } from "./get-list.js";
import { createClientLink } from "./link-factory.js";
import { maskSecret } from "./secret-mask.js";
import type { AssociationInfo, DlmsClientApi, DlmsClientOptions } from "./types.js";

export const DEFAULT_MAX_RECEIVE_PDU_SIZE = 1024;

type ClientState = "idle" | "connecting" | "associated" | "releasing" | "closed";

/** What a waiter sees: link events, with APDUs already decoded. */
type ClientEvent =
  | { type: "connected"; params?: HdlcParameters }
  | { type: "apdu"; apdu: Apdu }
  | { type: "disconnected"; reason: "disc" | "ua" | "dm" | "frmr" };

interface Waiter {
  step: ClientStep;
  what: string;
  /** Returns true when the event was for this waiter (it has then settled), false to leave it to the default path. */
  offer(event: ClientEvent): boolean;
  fail(error: Error): void;
}

export class DlmsClient implements DlmsClientApi {
  private readonly transport: Transport;
  private readonly invokeIds = new InvokeIdCounter();
  private readonly secret: Uint8Array | undefined;
  private link: DataLink | undefined;
  private state: ClientState = "idle";
  private waiter: Waiter | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private info: AssociationInfo | undefined;
  private txSummary = "";
  private staleCount = 0;
  private withListRefused = false;
  private heldRx: { bytes: Uint8Array; summary: string } | undefined;

  constructor(private readonly options: DlmsClientOptions) {
    if (!(options.timeoutMs > 0)) throw new ClientError("connect", `timeoutMs must be > 0, got ${options.timeoutMs}`);
    this.transport = options.transport;
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
    return this.serialize(async () => {
      this.requireAssociated("get");
      const result = await this.getOne(attribute);
      if (!result.ok) throw dataAccessError(result.error, attribute);
      return result.data;
    });
  }

  getMany(attributes: AttributeRequest[]): Promise<GetDataResult[]> {
    return this.serialize(async () => {
      this.requireAssociated("get");
      const info = this.info!;
      const results: GetDataResult[] = [];
      const readSequentially = async (list: AttributeRequest[]) => {
        for (const attribute of list) results.push(await this.getOne(attribute));
      };
      if (attributes.length <= 1 || !info.multipleReferences || this.withListRefused) {
        await readSequentially(attributes);
        return results;
      }
      const chunks = splitForPdu(attributes, info.serverMaxReceivePduSize, (r) => encodeApdu(r).length);
      for (const [i, chunk] of chunks.entries()) {
        try {
          results.push(...(await this.getList(chunk)));
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
    this.failWaiter((w) => new ConnectionClosedError(w.step, `connection closed by the client during ${w.what}`));
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
    const link = createClientLink(this.options.link);
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
    await this.wait("snrm", "DISC before SNRM", (e) => e.type === "disconnected", "tolerate");
  }

  private async openLink(link: DataLink): Promise<HdlcParameters | undefined> {
    this.sendLinkControl(() => link.connect(), "");
    const outcome = await this.wait(
      "snrm",
      "SNRM",
      (e) => (e.type === "connected" || e.type === "disconnected" ? e : undefined),
      "throw",
      "no answer to SNRM: check the server/physical address and the client SAP",
    );
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
    const aarq = buildAarq({
      mechanism: auth.mechanism,
      ...(this.secret ? { password: this.secret } : {}),
      conformance: this.options.proposedConformance ?? DEFAULT_CLIENT_CONFORMANCE,
      maxReceivePduSize: this.options.maxReceivePduSize ?? DEFAULT_MAX_RECEIVE_PDU_SIZE,
    });
    this.sendApdu(encodeApdu(aarq), `AARQ mechanism=${auth.mechanism}${this.secret ? " (password masked)" : ""}`);
    const aare = await this.wait("aarq", "AARQ", (e) => this.acceptAare(e), "throw", "no answer to AARQ");
    if (aare.result !== "accepted") {
      const ui = aare.userInformation;
      throw new AssociationRejectedError(
        aare.result,
        aare.diagnostic.name,
        aare.diagnostic.code,
        ui?.tag === "confirmed-service-error" ? `initiate error: ${ui.errorName}` : undefined,
      );
    }
    const initiate = aare.userInformation;
    if (initiate?.tag !== "initiate-response") {
      const why = initiate ? `initiate error ${initiate.errorName}` : "no InitiateResponse";
      throw new ClientError("aarq", `association accepted but unusable: ${why}`);
    }
    const conformance = initiate.negotiatedConformance;
    return {
      negotiatedConformance: conformance,
      conformanceNames: conformanceNames(conformance),
      serverMaxReceivePduSize: initiate.serverMaxReceivePduSize,
      multipleReferences: hasConformance(conformance, "multiple-references"),
      ...(params ? { hdlc: { ...params } } : {}),
    };
  }

  private acceptAare(e: ClientEvent): Aare | undefined {
    if (e.type !== "apdu") return undefined;
    const apdu = e.apdu;
    if (apdu.tag === "aare") return apdu;
    if (apdu.tag === "exception-response") throw exceptionError("aarq", apdu);
    if (apdu.tag === "confirmed-service-error") {
      throw new ClientError("aarq", `AARQ answered with confirmed-service-error ${apdu.errorName}`);
    }
    return undefined;
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
      await this.wait("release", "RLRQ", (e) => matchRelease(e), "tolerate");
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
      await this.wait("release", "DISC", (e) => e.type === "disconnected", "tolerate");
    } catch {
      // The link is being dropped anyway; a failing DISC changes nothing for the caller.
    }
  }

  // ---- GET ----------------------------------------------------------------------------------------------------

  /** GET-Request-Normal, following block transfer; a data-access-result comes back as { ok: false }. */
  private async getOne(attribute: AttributeRequest): Promise<GetDataResult> {
    const target = describeTarget(attribute);
    const invoke = this.invokeIds.next();
    const response = await this.request({ tag: "get-request", kind: "normal", invoke, attribute }, `GET ${target}`);
    if (response.kind === "normal") return response.result;
    if (response.kind === "with-list") {
      throw new ProtocolViolationError("get", `GET ${target} answered with a GET-Response-With-List`);
    }
    const raw = await this.collectBlocks(response, invoke, target);
    if (!raw.ok) return raw;
    return { ok: true, data: this.decodeValue(raw.bytes, target) };
  }

  private async getList(attributes: AttributeRequest[]): Promise<GetDataResult[]> {
    const what = `GET-with-list of ${attributes.length}`;
    const invoke = this.invokeIds.next();
    const response = await this.request({ tag: "get-request", kind: "with-list", invoke, attributes }, what);
    let results: GetDataResult[];
    if (response.kind === "with-list") results = response.results;
    else if (response.kind === "with-datablock") {
      const raw = await this.collectBlocks(response, invoke, what);
      if (!raw.ok) return attributes.map(() => ({ ok: false, error: raw.error }));
      results = decodeOrViolation(() => decodeGetDataResultList(raw.bytes), what);
    } else throw new ProtocolViolationError("get", `${what} answered with a GET-Response-Normal`);
    if (results.length !== attributes.length) {
      throw new ProtocolViolationError("get", `${what} answered with ${results.length} result(s)`);
    }
    return results;
  }

  /** Block transfer: GET-Request-Next until the last block, then the reassembled raw-data. */
  private async collectBlocks(
    first: Extract<GetResponse, { kind: "with-datablock" }>,
    invoke: InvokeIdAndPriority,
    what: string,
  ): Promise<{ ok: true; bytes: Uint8Array } | { ok: false; error: number }> {
    const parts: Uint8Array[] = [];
    let block = first;
    for (;;) {
      if (!block.result.ok) return { ok: false, error: block.result.error };
      parts.push(block.result.raw);
      if (block.lastBlock) return { ok: true, bytes: concat(parts) };
      const expected = block.blockNumber + 1;
      const next = await this.request(
        { tag: "get-request", kind: "next", invoke, blockNumber: block.blockNumber },
        `${what} (block ${expected})`,
      );
      if (next.kind !== "with-datablock" || next.blockNumber !== expected) {
        const got = next.kind === "with-datablock" ? `block ${next.blockNumber}` : `a GET-Response-${next.kind}`;
        throw new ProtocolViolationError("get", `${what}: expected block ${expected}, got ${got}`);
      }
      block = next;
    }
  }

  private decodeValue(bytes: Uint8Array, target: string): DlmsData {
    const { data, trailing } = decodeOrViolation(() => decodeDataLenient(bytes), target);
    if (trailing.length > 0) {
      // Seen in the field (a clock with trailing bytes): keep the value, surface the garbage.
      this.options.onDiscarded?.(
        new DecodeError("malformed", `${trailing.length} trailing byte(s) after the value of ${target} ignored`),
      );
    }
    return data;
  }

  /** Sends one GET request and waits for the GET response carrying its invoke id. */
  private async request(request: GetRequest, what: string): Promise<GetResponse> {
    this.requireAssociated("get");
    this.sendApdu(encodeApdu(request), describeApdu(request));
    const invokeId = request.invoke.invokeId;
    return this.wait(
      "get",
      what,
      (e) => {
        if (e.type !== "apdu") return undefined;
        const apdu = e.apdu;
        if (apdu.tag === "get-response") return apdu.invoke.invokeId === invokeId ? apdu : undefined;
        if (apdu.tag === "exception-response") throw exceptionError("get", apdu);
        if (apdu.tag === "confirmed-service-error") {
          throw new ProtocolViolationError("get", `${what} answered with confirmed-service-error ${apdu.errorName}`);
        }
        return undefined;
      },
      "throw",
      `no answer to ${what}`,
    );
  }

  // ---- plumbing -------------------------------------------------------------------------------------------------

  /** Runs operations one after another: one request at a time per association. */
  private serialize<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.queue.then(operation, operation);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private requireAssociated(step: ClientStep): void {
    if (this.state === "associated" || (this.state === "releasing" && step === "release")) return;
    throw new ConnectionClosedError(step, `not associated (client is ${this.state})`);
  }

  /**
   * Waits for the first event `match` accepts (returns a value other than undefined; throwing rejects).
   * On timeout: "throw" rejects with TimeoutError, "tolerate" resolves undefined.
   */
  private wait<T>(
    step: ClientStep,
    what: string,
    match: (e: ClientEvent) => T | undefined | false,
    onTimeout: "throw",
    hint?: string,
  ): Promise<T>;
  private wait<T>(
    step: ClientStep,
    what: string,
    match: (e: ClientEvent) => T | undefined | false,
    onTimeout: "tolerate",
  ): Promise<T | undefined>;
  private wait<T>(
    step: ClientStep,
    what: string,
    match: (e: ClientEvent) => T | undefined | false,
    onTimeout: "throw" | "tolerate",
    hint?: string,
  ): Promise<T | undefined> {
    if (this.state === "closed") {
      return Promise.reject(new ConnectionClosedError(step, `connection closed before ${what}`));
    }
    const timeoutMs = this.options.timeoutMs;
    return new Promise<T | undefined>((resolve, reject) => {
      const settle = (action: () => void) => {
        clearTimeout(timer);
        if (this.waiter === waiter) this.waiter = undefined;
        action();
      };
      const timer = setTimeout(() => {
        if (onTimeout === "tolerate") settle(() => resolve(undefined));
        else {
          const message = `${hint ?? `no answer to ${what}`} (timeout ${timeoutMs} ms, step ${step})`;
          settle(() => reject(new TimeoutError(step, message, timeoutMs)));
        }
      }, timeoutMs);
      const waiter: Waiter = {
        step,
        what,
        offer: (event) => {
          let value: T | undefined | false;
          try {
            value = match(event);
          } catch (error) {
            settle(() => reject(error));
            return true;
          }
          if (value === undefined || value === false) return false;
          settle(() => resolve(value));
          return true;
        },
        fail: (error) => settle(() => reject(error)),
      };
      this.waiter = waiter;
    });
  }

  private failWaiter(makeError: (w: Waiter) => Error): void {
    const waiter = this.waiter;
    if (waiter) waiter.fail(makeError(waiter));
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
      this.failWaiter((w) => new ProtocolViolationError(w.step, `link error during ${w.what}: ${messageOf(error)}`));
    }
    this.pump();
    this.flush(); // the link may owe the peer an RR (segmented reply) or a UA
  }

  /** Drains the link's events into the waiter, or the default handling when nobody wants them. */
  private pump(): void {
    const link = this.link;
    if (!link) return;
    for (let event = link.nextEvent(); event; event = link.nextEvent()) this.onLinkEvent(event);
    this.traceHeldRx();
  }

  /**
   * The frame that completes an APDU is traced together with the APDU's description ("GET.res normal ..."), so
   * a received frame is held until the next link event says whether an APDU came out of it.
   */
  private traceHeldRx(apdu?: Apdu): void {
    const held = this.heldRx;
    if (!held) return;
    this.heldRx = undefined;
    this.options.onFrame?.("rx", held.bytes, apdu ? `${held.summary} ${describeApdu(apdu)}` : held.summary);
  }

  private onLinkEvent(event: LinkEvent): void {
    switch (event.type) {
      case "frame":
        this.traceHeldRx();
        if (this.options.onFrame) this.heldRx = { bytes: event.bytes, summary: event.summary };
        return;
      case "discarded":
        this.options.onDiscarded?.(event.error);
        return;
      case "connected":
        this.waiter?.offer(event);
        return;
      case "disconnected":
        if (this.waiter?.offer(event)) return;
        if (this.state !== "closed" && this.state !== "idle") {
          // The meter ended the link on its own (DISC/DM): nothing more will come.
          this.failWaiter(
            (w) => new ConnectionClosedError(w.step, `the meter closed the link (${event.reason}) during ${w.what}`),
          );
          this.close();
        }
        return;
      case "apdu":
        this.onApdu(event.apdu);
    }
  }

  private onApdu(bytes: Uint8Array): void {
    let apdu: Apdu;
    try {
      const decoded = decodeApduLenient(bytes);
      apdu = decoded.apdu;
      this.traceHeldRx(apdu);
      if (decoded.trailing.length > 0) {
        // Seen in the field (a clock reply followed by a copy of itself): keep the PDU, surface the garbage.
        const n = decoded.trailing.length;
        this.options.onDiscarded?.(new DecodeError("malformed", `${n} trailing byte(s) after ${apdu.tag} ignored`));
      }
    } catch (error) {
      this.traceHeldRx();
      const decodeError = error instanceof DecodeError ? error : new DecodeError("malformed", messageOf(error));
      this.options.onDiscarded?.(decodeError);
      this.failWaiter(
        (w) => new ProtocolViolationError(w.step, `undecodable reply to ${w.what}: ${decodeError.message}`),
      );
      return;
    }
    if (this.waiter?.offer({ type: "apdu", apdu })) return;
    this.staleCount++;
    this.options.onDiscarded?.(staleReplyError(apdu, this.waiter?.what));
  }

  private onTransportClosed(error?: Error): void {
    if (this.state === "closed") return;
    const cause = error ? `: ${error.message}` : "";
    this.failWaiter((w) => new ConnectionClosedError(w.step, `connection lost during ${w.what}${cause}`));
    this.state = "closed";
    this.transport.close();
  }
}

// ---- helpers ------------------------------------------------------------------------------------------------------

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
  return new ExceptionResponseError(step, apdu.stateErrorName, apdu.serviceErrorName);
}

function dataAccessError(code: number, attribute: AttributeRequest): DataAccessError {
  return new DataAccessError(code, dataAccessResultName(code), describeTarget(attribute));
}

function staleReplyError(apdu: Apdu, waitingFor: string | undefined): DlmsError {
  const invoke = "invoke" in apdu ? ` invoke id ${apdu.invoke.invokeId}` : "";
  const context = waitingFor ? `while waiting for ${waitingFor}` : "with no request pending";
  return new RemoteProtocolError("unexpected-frame", `discarded ${apdu.tag}${invoke} received ${context}`);
}

export function describeTarget(attribute: AttributeRequest): string {
  return `${formatObis(attribute.instanceId)} class ${attribute.classId} attr ${attribute.attributeId}`;
}

function decodeOrViolation<T>(decode: () => T, what: string): T {
  try {
    return decode();
  } catch (error) {
    throw new ProtocolViolationError("get", `undecodable value for ${what}: ${messageOf(error)}`);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
