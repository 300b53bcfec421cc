/** Hex helpers for traces, tests and vectors ("7E A0 07", "7ea007" and "7e:a0:07" are all accepted). */
export function toHex(b: Uint8Array, sep = " "): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += (i && sep ? sep : "") + b[i]!.toString(16).padStart(2, "0").toUpperCase();
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/[\s:]/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`invalid hex string: ${hex.slice(0, 40)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
