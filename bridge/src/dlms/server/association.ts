// Sans-IO server association (the meter's side of 62056-5-3): decoded request APDU in, response APDU (or silence)
// out. No sockets, timers or clocks: the simulator owns those and calls reset() when the link or a timeout ends it.
import { hasConformance } from "../apdu/conformance.js";
import { DataAccessResult } from "../apdu/data-access-result.js";
import { exceptionServiceErrorName, exceptionStateErrorName } from "../apdu/diagnostics.js";
import type {
  Aarq,
  Apdu,
  AttributeRequest,
  ExceptionResponse,
  GetDataResult,
  GetRequest,
  GetResponse,
  InvokeIdAndPriority,
  Rlre,
} from "../apdu/types.js";
import { currentAssociationEntry, isCurrentAssociation, readCurrentAssociation } from "./association-object.js";
import {
  abortedBlock,
  DATABLOCK_OVERHEAD,
  type EncodedResult,
  encodeListResults,
  encodeNormalResult,
  LongGet,
} from "./block-transfer.js";
import { type ClientAuth, type NegotiatedContext, negotiate, refusingAare } from "./negotiation.js";
import type { CosemObjectModel, ObjectListEntry } from "./object-model.js";

export interface ServerAssociationOptions {
  objects: CosemObjectModel;
  /** Authentication per client SAP (e.g. 16 public: none, 1 management: low). SAPs absent here are refused. */
  auth: ReadonlyMap<number, ClientAuth>;
  /**
   * Conformance the server supports, or per client SAP (meters often grant the public client less than an
   * authenticated one); the negotiated conformance is proposed AND supported.
   */
  conformance: number | ((clientSap: number) => number);
  /** Server max receive PDU size announced in the InitiateResponse. */
  maxPduSize: number;
  /** Our logical SAP, reported by the association object's associated_partners_id. Default 1. */
  serverSap?: number;
  /** What a missing object answers: object-undefined (4, the standard) or read-write-denied (3, as many meters). */
  unknownObject?: "object-undefined" | "read-write-denied";
  /** A GET before association: an ExceptionResponse (default) or silence, as some meters do. */
  beforeAssociation?: "exception" | "silence";
  /** Refuse every AARQ with AARE rejected-permanent (fault injection: a meter that will not associate). */
  refuseAssociation?: boolean;
  /** false: ignore RLRQ (no RLRE, association kept), as meters that only end an association on DISC. Default true. */
  releaseSupported?: boolean;
}

/** What one request did to the association; the simulator logs these (never the password). */
export type AssociationEvent =
  | { type: "associated"; clientSap: number; mechanism: ClientAuth["mechanism"]; conformance: number }
  | { type: "rejected"; clientSap: number; diagnostic: string }
  | { type: "released"; clientSap: number };

/** ExceptionResponse codes this server sends (names from apdu/diagnostics.ts). */
const StateError = { "service-not-allowed": 1, "service-unknown": 2 } as const;
const ServiceError = { "operation-not-possible": 1, "service-not-supported": 2 } as const;

export class ServerAssociation {
  private context: NegotiatedContext | undefined;
  private longGet: LongGet | undefined;
  private readonly events: AssociationEvent[] = [];

  constructor(private readonly options: ServerAssociationOptions) {}

  get isAssociated(): boolean {
    return this.context !== undefined;
  }

  get negotiated(): Readonly<NegotiatedContext> | undefined {
    return this.context;
  }

  /** Association events since the last call (for logs). */
  takeEvents(): AssociationEvent[] {
    return this.events.splice(0);
  }

  /** The link went down (DISC, inactivity timeout, TCP close): the association ends without RLRQ. */
  reset(): void {
    this.context = undefined;
    this.longGet = undefined;
  }

  /** Answers one request from `clientSap`. null = the meter stays silent. */
  handle(request: Apdu, clientSap: number): Apdu | null {
    switch (request.tag) {
      case "aarq":
        return this.associate(request, clientSap);
      case "rlrq":
        return this.options.releaseSupported === false ? null : this.release(clientSap);
      case "get-request":
        if (!this.context)
          return this.options.beforeAssociation === "silence" ? null : notAllowed("operation-not-possible");
        return this.get(request, this.context);
      default:
        return exception("service-unknown", "service-not-supported");
    }
  }

  /** Bytes that did not decode as any APDU we know: what a meter answers to an unknown service. */
  handleUndecodable(): Apdu | null {
    if (!this.context && this.options.beforeAssociation === "silence") return null;
    return exception("service-unknown", "service-not-supported");
  }

  private associate(aarq: Aarq, clientSap: number): Apdu {
    this.reset();
    if (this.options.refuseAssociation) {
      this.events.push({ type: "rejected", clientSap, diagnostic: "no-reason-given" });
      return refusingAare(aarq);
    }
    const { conformance } = this.options;
    const outcome = negotiate(aarq, clientSap, {
      authFor: (sap) => this.options.auth.get(sap),
      supportedConformance: typeof conformance === "function" ? conformance(clientSap) : conformance,
      serverMaxReceivePduSize: this.options.maxPduSize,
    });
    if (outcome.accepted) {
      this.context = outcome.context;
      const { mechanism, conformance } = outcome.context;
      this.events.push({ type: "associated", clientSap, mechanism, conformance });
    } else {
      const info = outcome.aare.userInformation;
      const diagnostic = info?.tag === "confirmed-service-error" ? info.errorName : outcome.aare.diagnostic.name;
      this.events.push({ type: "rejected", clientSap, diagnostic });
    }
    return outcome.aare;
  }

  private release(clientSap: number): Rlre {
    if (this.context) this.events.push({ type: "released", clientSap });
    this.reset();
    return { tag: "rlre", reason: 0 };
  }

  private get(request: GetRequest, context: NegotiatedContext): Apdu {
    if (!hasConformance(context.conformance, "get")) return notAllowed("service-not-supported");
    const { invoke } = request;
    if (request.kind === "next") return this.nextBlock(invoke, request.blockNumber);
    this.longGet = undefined; // a new request abandons any long GET in progress
    if (request.kind === "normal") {
      const result = this.read(request.attribute, context);
      if (!result.ok) return { tag: "get-response", kind: "normal", invoke, result };
      return this.respond(
        invoke,
        encodeNormalResult(result.data),
        { tag: "get-response", kind: "normal", invoke, result },
        context,
      );
    }
    if (!hasConformance(context.conformance, "multiple-references")) return notAllowed("service-not-supported");
    const results = request.attributes.map((a) => this.read(a, context));
    return this.respond(
      invoke,
      encodeListResults(results),
      { tag: "get-response", kind: "with-list", invoke, results },
      context,
    );
  }

  /** The whole response if it fits the client's PDU, else its first block. */
  private respond(
    invoke: InvokeIdAndPriority,
    encoded: EncodedResult,
    whole: GetResponse,
    context: NegotiatedContext,
  ): GetResponse {
    if (encoded.pduSize <= context.clientMaxReceivePduSize) return whole;
    if (!hasConformance(context.conformance, "block-transfer-with-get-or-read")) {
      // Too long and no block transfer negotiated: nothing the client could receive, so refuse the read.
      const error = DataAccessResult["other-reason"];
      return whole.kind === "with-list"
        ? { ...whole, results: whole.results.map(() => ({ ok: false, error })) }
        : { tag: "get-response", kind: "normal", invoke, result: { ok: false, error } };
    }
    this.longGet = new LongGet(invoke, encoded.raw, context.clientMaxReceivePduSize - DATABLOCK_OVERHEAD);
    return this.longGet.first();
  }

  private nextBlock(invoke: InvokeIdAndPriority, acknowledged: number): GetResponse {
    if (!this.longGet) return abortedBlock(invoke, acknowledged, DataAccessResult["no-long-get-in-progress"]);
    const { response, aborted } = this.longGet.next(invoke, acknowledged);
    if (aborted || this.longGet.finished) this.longGet = undefined;
    return response;
  }

  private read(attribute: AttributeRequest, context: NegotiatedContext): GetDataResult {
    const { classId, instanceId, attributeId, access } = attribute;
    if (isCurrentAssociation(classId, instanceId)) {
      return readCurrentAssociation(attributeId, {
        objects: this.objectList(),
        serverSap: this.options.serverSap ?? 1,
        negotiated: context,
        serverMaxReceivePduSize: this.options.maxPduSize,
      });
    }
    const result = this.options.objects.get(classId, instanceId, attributeId, access);
    if (
      !result.ok &&
      result.error === DataAccessResult["object-undefined"] &&
      this.options.unknownObject === "read-write-denied"
    ) {
      return { ok: false, error: DataAccessResult["read-write-denied"] };
    }
    return result;
  }

  private objectList(): ObjectListEntry[] {
    return [currentAssociationEntry, ...this.options.objects.list()];
  }
}

function notAllowed(serviceError: keyof typeof ServiceError): ExceptionResponse {
  return exception("service-not-allowed", serviceError);
}

function exception(stateError: keyof typeof StateError, serviceError: keyof typeof ServiceError): ExceptionResponse {
  return {
    tag: "exception-response",
    stateError: StateError[stateError],
    stateErrorName: exceptionStateErrorName(StateError[stateError]),
    serviceError: ServiceError[serviceError],
    serviceErrorName: exceptionServiceErrorName(ServiceError[serviceError]),
  };
}
