// A small scripted meter for client tests: the real server-role data link and APDU codec, with answers chosen by
// the test (values by "class/obis/attr", negotiated conformance and PDU size, and a hook to misbehave).
import { buildAare } from "../../src/dlms/apdu/builders.js";
import { conformanceMask } from "../../src/dlms/apdu/conformance.js";
import { decodeApdu, encodeApdu } from "../../src/dlms/apdu/index.js";
import type { Apdu, AttributeRequest, GetDataResult } from "../../src/dlms/apdu/types.js";
import type { DlmsData } from "../../src/dlms/axdr/types.js";
import { formatObis } from "../../src/dlms/cosem/obis.js";
import { HdlcLink } from "../../src/dlms/hdlc/link.js";
import type { DataLink } from "../../src/dlms/link.js";
import { WrapperLink } from "../../src/dlms/wrapper/link.js";
import type { Transport } from "../../src/transport/types.js";

/** What the hook wants: replies to send (in order), or undefined for the default answer. */
export type Script = (request: Apdu, meter: ScriptedMeter) => Apdu[] | undefined;

export interface ScriptedMeterOptions {
  kind?: "hdlc" | "wrapper";
  conformance?: string[];
  maxPduSize?: number;
  values?: Record<string, DlmsData>;
  script?: Script;
}

export const key = (classId: number, obis: string, attributeId: number) => `${classId}/${obis}/${attributeId}`;

export class ScriptedMeter {
  readonly link: DataLink;
  /** Every APDU the client sent, decoded, in order. */
  readonly requests: Apdu[] = [];
  /** Every link-level frame / PDU received. */
  readonly framesIn: Uint8Array[] = [];

  constructor(
    private readonly transport: Transport,
    private readonly options: ScriptedMeterOptions = {},
  ) {
    this.link =
      options.kind === "wrapper"
        ? new WrapperLink({ role: "server", clientWPort: 16, serverWPort: 1 })
        : new HdlcLink({ role: "server", clientAddress: 16, serverAddress: { logical: 1 } });
    transport.onEvent((event) => {
      if (event.type === "data") this.onData(event.bytes);
    });
    void transport.open();
  }

  /** Sends APDUs now, unprompted (e.g. a late reply). */
  send(...apdus: Apdu[]): void {
    for (const apdu of apdus) this.link.sendApdu(encodeApdu(apdu));
    this.flush();
  }

  /** Drops the connection, like a meter losing power. */
  drop(): void {
    this.transport.close();
  }

  answer(request: AttributeRequest): GetDataResult {
    const data = this.options.values?.[key(request.classId, formatObis(request.instanceId), request.attributeId)];
    return data ? { ok: true, data } : { ok: false, error: 4 }; // object-undefined
  }

  private onData(bytes: Uint8Array): void {
    this.link.receiveData(bytes);
    for (let e = this.link.nextEvent(); e; e = this.link.nextEvent()) {
      if (e.type === "frame") this.framesIn.push(e.bytes);
      if (e.type !== "apdu") continue;
      const request = decodeApdu(e.apdu);
      this.requests.push(request);
      for (const reply of this.options.script?.(request, this) ?? this.defaultReplies(request)) {
        this.link.sendApdu(encodeApdu(reply));
      }
    }
    this.flush();
  }

  private defaultReplies(request: Apdu): Apdu[] {
    switch (request.tag) {
      case "aarq":
        return [
          buildAare({
            result: "accepted",
            diagnostic: { source: "user", code: 0 },
            conformance: conformanceMask(this.options.conformance ?? ["get", "multiple-references"]),
            maxReceivePduSize: this.options.maxPduSize ?? 1024,
          }),
        ];
      case "get-request":
        if (request.kind === "normal") {
          return [
            { tag: "get-response", kind: "normal", invoke: request.invoke, result: this.answer(request.attribute) },
          ];
        }
        if (request.kind === "with-list") {
          const results = request.attributes.map((a) => this.answer(a));
          return [{ tag: "get-response", kind: "with-list", invoke: request.invoke, results }];
        }
        return [];
      case "rlrq":
        return [{ tag: "rlre", reason: 0 }];
      default:
        return [];
    }
  }

  private flush(): void {
    for (const frame of this.link.takeOutgoing()) {
      try {
        this.transport.write(frame);
      } catch {
        return; // dropped
      }
    }
  }
}

/**
 * A third-party server's quirk seen in the field: once one item of a GET-with-list is missing, every later item of
 * that list fails too (object-undefined), although each reads fine alone.
 */
export const failsAfterMissingInList: Script = (request, meter) => {
  if (request.tag !== "get-request" || request.kind !== "with-list") return undefined;
  let broken = false;
  const results = request.attributes.map((a): GetDataResult => {
    const result: GetDataResult = broken ? { ok: false, error: 4 } : meter.answer(a);
    if (!result.ok) broken = true;
    return result;
  });
  return [{ tag: "get-response", kind: "with-list", invoke: request.invoke, results }];
};
