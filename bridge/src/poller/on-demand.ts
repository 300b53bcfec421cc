// On-demand reads (a technician's read through the running bridge): what the engine promises and how it refuses.
// The read runs on the meter's live association, queued behind the operation in flight, never interleaved with
// a poll; the poll schedule carries on around it.
import type { ObjectRef } from "../client/object-ref.js";
import type { ObjectReadingJson } from "../client/reading-json.js";
import type { MeterRuntimeState } from "./types.js";

/** Reads waiting for one meter beyond this are refused ("busy"), so a flood cannot starve the polls. */
export const MAX_QUEUED_ON_DEMAND_READS = 4;

export type OnDemandFailure =
  /** No meter with that id. */
  | "unknown-meter"
  /** No live association (offline, breaker open, not connected yet) or the bridge is stopping. */
  | "unavailable"
  /** Too many reads queued for this meter, or the deadline passed while waiting for the poll in flight. */
  | "busy"
  /** The meter did not answer within the deadline; the association was dropped (the next poll reconnects). */
  | "timeout"
  /** The association failed during the read (dropped; the next poll reconnects). */
  | "failed";

export class OnDemandReadError extends Error {
  override name = "OnDemandReadError";
  constructor(
    readonly failure: OnDemandFailure,
    message: string,
    /** The meter's state when it was refused (lastError, breaker…), for the caller to show. */
    readonly state?: MeterRuntimeState,
  ) {
    super(message);
  }
}

export interface OnDemandRequest {
  objects: ObjectRef[];
  /** Absolute time (clock ms) after which the read is no longer wanted. */
  deadlineAt: number;
}

export interface OnDemandResult {
  meter: string;
  /** When the read started on the association (ms since the epoch). */
  ts: number;
  objects: ObjectReadingJson[];
}
