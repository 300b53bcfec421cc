// One simulated meter as the network sees it: its model, addresses, fault counters and traffic statistics.
import type { MeterSecurityState } from "../dlms/server/secure-association.js";
import type { MeterFaults } from "./faults.js";
import type { SimulatedMeter } from "./meter-model.js";

export interface MeterStats {
  connections: number;
  associations: number;
  rejectedAssociations: number;
  busyRefusals: number;
  requests: number;
  framesIn: number;
  framesOut: number;
  discarded: number;
}

export interface MeterSlot {
  readonly index: number;
  readonly serialNumber: string;
  /** TCP port this meter answers on (shared by all meters with sharedPort). */
  port: number;
  /** With wrapperPort: the port serving this meter over the wrapper as well. */
  wrapperPort?: number;
  /** HDLC lower (physical) address. */
  readonly physicalAddress: number;
  /** Wrapper destination wPort. */
  readonly wPort: number;
  readonly model: SimulatedMeter;
  readonly faults: MeterFaults;
  readonly stats: MeterStats;
  /** HLS-GMAC: the meter's system title and its persistent counters (its own, and the last seen per client). */
  readonly security: MeterSecurityState & { systemTitle: Uint8Array };
  /** The connection holding the meter (one at a time), or the link a vanished client left up (holdAfterClose). */
  busyWith: object | undefined;
}

/**
 * A link left up by a client that closed TCP without DISC/RLRQ, as a meter behind a TCP/serial converter never
 * sees the TCP close: it keeps the meter busy until the inactivity timeout, or until a DISC arrives.
 */
export class StaleLink {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly meter: MeterSlot,
    remainingMs: number,
  ) {
    meter.busyWith = this;
    this.timer = setTimeout(() => this.release(), Math.max(0, remainingMs));
    this.timer.unref(); // must not keep a stopping simulator alive
  }

  release(): void {
    clearTimeout(this.timer);
    if (this.meter.busyWith === this) this.meter.busyWith = undefined;
  }
}

export function emptyStats(): MeterStats {
  return {
    connections: 0,
    associations: 0,
    rejectedAssociations: 0,
    busyRefusals: 0,
    requests: 0,
    framesIn: 0,
    framesOut: 0,
    discarded: 0,
  };
}
