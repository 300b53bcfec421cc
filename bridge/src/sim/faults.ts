// Fault injection, observable from the client side: silence, answering only every Nth request, and corrupted
// frames. Counters are per meter, so a reconnecting client continues the same pattern.
import type { ResolvedOptions } from "./options.js";

export class MeterFaults {
  private requests = 0;
  private frames = 0;
  /** Switched at run time (tests): the meter stops answering, as when its line is cut, and keeps recording. */
  silenced = false;

  constructor(private readonly options: Pick<ResolvedOptions, "silence" | "answerEvery" | "corruptFcsEvery">) {}

  /** Whether the answer to this request goes out (false = the meter stays silent). */
  admitAnswer(): boolean {
    if (this.options.silence || this.silenced) return false;
    this.requests += 1;
    return this.requests % this.options.answerEvery === 0;
  }

  /** The frame as sent: every corruptFcsEvery-th frame gets a wrong checksum (a copy; the input is not touched). */
  frameToSend(frame: Uint8Array, transport: "hdlc" | "wrapper"): Uint8Array {
    const every = this.options.corruptFcsEvery;
    if (every === undefined) return frame;
    this.frames += 1;
    if (this.frames % every !== 0) return frame;
    const bad = frame.slice();
    if (transport === "hdlc") {
      bad[bad.length - 3]! ^= 0x5a; // first FCS byte (7E ... FCS FCS 7E): the length field stays intact
    } else {
      bad[1]! ^= 0x02; // wrapper version 0x0001 -> 0x0003: the peer's deframer must reject the header
    }
    return bad;
  }
}
