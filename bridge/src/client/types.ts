// Public contract of the async DLMS client (implemented in client/client.ts). The poller and CLI code against this.

import type { AttributeRequest, GetDataResult } from "../dlms/apdu/types.js";
import type { DlmsData } from "../dlms/axdr/types.js";
import type { DlmsError } from "../dlms/errors.js";
import type { Transport } from "../transport/types.js";

export type LinkSettings =
  | {
      kind: "hdlc";
      clientAddress: number; // client SAP, e.g. 16 public, 1 management (Microstar), 17 LLS on some servers
      serverAddress: { logical: number; physical?: number; size?: 1 | 2 | 4 };
      maxInfo?: number; // proposed max info field TX/RX (default 128)
      window?: number; // proposed window (default 1)
    }
  | { kind: "wrapper"; clientAddress: number; serverAddress: { logical: number } }; // wPorts

export type AuthSettings =
  | { mechanism: "none" }
  | { mechanism: "low"; password: string } // password: SECRET
  | HlsGmacSettings;

/** Our invocation counter: each value is handed out once, and persisted before it is handed out. */
export interface InvocationCounterSource {
  /** The next value to put on the wire; throws when none can be reserved. */
  next(): number;
  /** The meter said it expects at least `value`: skip ahead so the next association succeeds. */
  raiseTo?(value: number): void;
}

/** HLS-GMAC (mechanism 5) with ciphered APDUs, security suite 0. */
export interface HlsGmacSettings {
  mechanism: "hls-gmac";
  /** Protection of every xDLMS APDU (default in config: auth-enc). */
  policy: "auth" | "enc" | "auth-enc";
  /** Our system title, 8 bytes. */
  systemTitle: Uint8Array;
  /** SECRET: global unicast block key and authentication key. */
  keys: { readonly ek: Uint8Array; readonly ak: Uint8Array };
  counter: InvocationCounterSource;
  /** When set, the meter's responding-AP-title must equal it. */
  serverSystemTitle?: Uint8Array;
  /** Highest meter invocation counter already accepted (replay floor across associations). */
  lastServerCounter?: number;
  /** Sees every accepted meter counter (to persist the replay floor) . */
  onServerCounter?: (value: number) => void;
}

export interface DlmsClientOptions {
  transport: Transport;
  link: LinkSettings;
  auth: AuthSettings;
  /** Per-step timeout (SNRM, AARQ, each GET block, RLRQ, DISC). */
  timeoutMs: number;
  /**
   * Largest reply accepted, in bytes: the APDU after HDLC reassembly, a wrapper PDU's payload, and the raw data of
   * all blocks of a block transfer together. Default DEFAULT_MAX_REPLY_BYTES (256 KiB).
   */
  maxReplyBytes?: number;
  /** Deadline of one GET with all its blocks and segments (not restarted per block). Default 6 x timeoutMs. */
  requestDeadlineMs?: number;
  /** Conformance bits we propose (default: get, block-transfer-with-get, multiple-references, selective-access, ...). */
  proposedConformance?: number;
  maxReceivePduSize?: number; // default 1024 … 0xFFFF
  /** Sees every frame / wrapper PDU in both directions (for --trace and frame/byte metrics). Never passed secrets in clear. */
  onFrame?: (direction: "tx" | "rx", bytes: Uint8Array, summary: string) => void;
  /** Every frame's size, for frame/byte counters: unlike onFrame, builds no trace text (cheap per frame). */
  onFrameSize?: (direction: "tx" | "rx", bytes: number) => void;
  /**
   * HDLC: send DISC before SNRM to free a meter left associated by a dead client (many meters accept one
   * association at a time until their inactivity timeout). Off by default: some meters dislike a DISC out of the blue.
   */
  discFirst?: boolean;
  /** A received frame was discarded (bad FCS, wrong address…): counted by the caller. */
  onDiscarded?: (error: DlmsError) => void;
  /** A security check failed (counted by the caller, e.g. a metric per check). */
  onSecurityFailure?: (check: string) => void;
}

/** Frozen, and shared by every client whose association agreed the same. */
export interface AssociationInfo {
  readonly negotiatedConformance: number;
  readonly conformanceNames: readonly string[];
  readonly serverMaxReceivePduSize: number;
  readonly multipleReferences: boolean;
  readonly hdlc?: Readonly<{ maxInfoTx: number; maxInfoRx: number; windowTx: number; windowRx: number }>;
}

export interface DlmsClientApi {
  /** Opens the transport, SNRM/UA (HDLC), AARQ/AARE. Rejects with ClientError (see client/errors.ts). */
  connect(): Promise<AssociationInfo>;
  /** GET-Request-Normal (+ block transfer). Rejects with DataAccessError for a data-access-result. */
  get(attribute: AttributeRequest): Promise<DlmsData>;
  /** GET whose value is handed on block by block as it arrives (large profile buffers); optional for test fakes. */
  getStream?(attribute: AttributeRequest, onBytes: (chunk: Uint8Array) => void): Promise<void>;
  /** GET-with-list when the association allows multiple references, else sequential GETs; one result per request. */
  getMany(attributes: AttributeRequest[]): Promise<GetDataResult[]>;
  /** RLRQ (tolerating meters that do not answer or do not implement it), then DISC (HDLC), then closes the transport. */
  release(): Promise<void>;
  /** Drops the transport at once (no RLRQ/DISC). */
  close(): void;
  readonly connected: boolean;
  readonly association: AssociationInfo | undefined;
}
