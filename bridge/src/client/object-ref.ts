// Object references as a technician writes them: "OBIS" (class guessed from the code, attribute 2) or
// "CLASS/OBIS[/ATTR]". Shared by `read --obis` and the bridge's POST /api/meters/<id>/read.
import { formatObis, parseObis } from "../dlms/cosem/obis.js";

export interface ObjectRef {
  obis: string;
  classId: number;
  attributeId: number;
}

/** Throws an Error saying what is wrong with `text` (the caller adds where it came from). */
export function parseObjectRef(text: string, defaultClass?: number, defaultAttribute = 2): ObjectRef {
  const qualified = /^(\d+)\/([^/]+)(?:\/(-?\d+))?$/.exec(text.trim());
  const obis = formatObis(parseObis(qualified ? qualified[2]! : text));
  if (!qualified) return { obis, classId: defaultClass ?? likelyClass(obis), attributeId: defaultAttribute };
  const classId = Number(qualified[1]);
  if (classId > 0xffff) throw new Error(`class ${qualified[1]} is not in 0..65535`);
  const attributeId = qualified[3] === undefined ? defaultAttribute : Number(qualified[3]);
  if (attributeId < -128 || attributeId > 127) throw new Error(`attribute ${qualified[3]} is not in -128..127`);
  return { obis, classId, attributeId };
}

/**
 * Without a class, the interface class an OBIS code usually has, so `0.0.96.1.0.255` reads a serial number rather
 * than failing as a Register: clock 8, association 15, load profiles 7, other abstract objects Data (1),
 * electricity values Register (3).
 */
export function likelyClass(obis: string): number {
  const [a, , c, d] = obis.split(".").map(Number);
  if (obis === "0.0.1.0.0.255") return 8;
  if (a === 0 && c === 40 && d === 0) return 15;
  if (c === 99 || c === 98) return 7;
  return a === 0 ? 1 : 3;
}
