// Two DataLinks wired back to back in memory (h11's ConnectionPair): bytes taken from one are fed to the other.
import { decodeFrame, describeFrame } from "../../../src/dlms/hdlc/frame.js";
import type { DataLink, LinkEvent } from "../../../src/dlms/link.js";

export interface Side {
  link: DataLink;
  /** Events other than "frame" (those are only counted, so long runs stay cheap). */
  events: LinkEvent[];
  framesReceived: number;
  /** Every frame this side wrote, in order. */
  sent: Uint8Array[];
}

export function side(link: DataLink): Side {
  return { link, events: [], framesReceived: 0, sent: [] };
}

/** Moves bytes both ways until neither side has anything to send; collects events. Returns frames moved. */
export function shuttle(a: Side, b: Side, maxRounds = 100_000): number {
  let moved = 0;
  for (let round = 0; round < maxRounds; round++) {
    const fromA = a.link.takeOutgoing();
    const fromB = b.link.takeOutgoing();
    if (fromA.length === 0 && fromB.length === 0) {
      collect(a);
      collect(b);
      return moved;
    }
    for (const f of fromA) {
      a.sent.push(f);
      b.link.receiveData(f);
    }
    for (const f of fromB) {
      b.sent.push(f);
      a.link.receiveData(f);
    }
    moved += fromA.length + fromB.length;
    collect(a);
    collect(b);
  }
  throw new Error("links never went quiet");
}

export function collect(s: Side): LinkEvent[] {
  const got: LinkEvent[] = [];
  for (let e = s.link.nextEvent(); e; e = s.link.nextEvent()) {
    if (e.type === "frame") s.framesReceived++;
    else got.push(e);
  }
  s.events.push(...got);
  return got;
}

export function take<T extends LinkEvent["type"]>(s: Side, type: T): Extract<LinkEvent, { type: T }>[] {
  const matching = s.events.filter((e): e is Extract<LinkEvent, { type: T }> => e.type === type);
  s.events = s.events.filter((e) => e.type !== type);
  return matching;
}

export function discards(s: Side): string[] {
  return s.events.flatMap((e) => (e.type === "discarded" ? [`${e.error.name}: ${e.error.message}`] : []));
}

export function summaries(frames: Uint8Array[]): string[] {
  return frames.map((f) => describeFrame(decodeFrame(f)));
}
