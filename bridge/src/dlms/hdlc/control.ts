// HDLC control field (IEC 62056-46 §6.4.3), modulo-8 numbering:
//   I-frame  nr nr nr P  ns ns ns 0
//   S-frame  nr nr nr P  s  s  0  1   (RR s=00, RNR s=01)
//   U-frame  m  m  m  P  m  m  1  1

import { DecodeError } from "../errors.js";

export type FrameType = "I" | "RR" | "RNR" | "SNRM" | "DISC" | "UA" | "DM" | "FRMR" | "UI";

export interface ControlFields {
  type: FrameType;
  pf: boolean;
  ns?: number;
  nr?: number;
}

const PF = 0x10;

/** U-frame control values without the P/F bit. */
const U_FRAMES = { SNRM: 0x83, DISC: 0x43, UA: 0x63, DM: 0x0f, FRMR: 0x87, UI: 0x03 } as const;
type UFrameType = keyof typeof U_FRAMES;
const U_BY_VALUE = new Map<number, UFrameType>(Object.entries(U_FRAMES).map(([k, v]) => [v, k as UFrameType]));

export function iControl(ns: number, nr: number, pf: boolean): number {
  return ((nr & 7) << 5) | (pf ? PF : 0) | ((ns & 7) << 1);
}

export function rrControl(nr: number, pf: boolean): number {
  return ((nr & 7) << 5) | (pf ? PF : 0) | 0x01;
}

export function rnrControl(nr: number, pf: boolean): number {
  return ((nr & 7) << 5) | (pf ? PF : 0) | 0x05;
}

export function uControl(type: UFrameType, pf: boolean): number {
  return U_FRAMES[type] | (pf ? PF : 0);
}

export function decodeControl(control: number): ControlFields {
  const pf = (control & PF) !== 0;
  if ((control & 0x01) === 0) return { type: "I", pf, ns: (control >> 1) & 7, nr: control >> 5 };
  if ((control & 0x03) === 0x01) {
    const s = (control >> 2) & 3;
    if (s === 0) return { type: "RR", pf, nr: control >> 5 };
    if (s === 1) return { type: "RNR", pf, nr: control >> 5 };
    throw new DecodeError("unsupported", `unsupported S-frame control 0x${hex(control)} (only RR and RNR)`);
  }
  const type = U_BY_VALUE.get(control & ~PF);
  if (!type) throw new DecodeError("unsupported", `unsupported U-frame control 0x${hex(control)}`);
  return { type, pf };
}

function hex(b: number): string {
  return b.toString(16).padStart(2, "0").toUpperCase();
}
