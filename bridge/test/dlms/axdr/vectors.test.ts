// Every value the independent dlms-cosem client decoded in the captured sessions decodes to the same thing here.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeData, decodeDataLenient, encodeData } from "../../../src/dlms/axdr/index.js";
import type { DlmsData } from "../../../src/dlms/axdr/types.js";
import { fromHex, toHex } from "../../../src/dlms/codec/hex.js";
import { DecodeError } from "../../../src/dlms/errors.js";
import { loadVectorFrames, VECTORS_DIR, vectorFiles } from "../vectors.js";

/** The Python repr the capturing client wrote in "decoded": 12, [-2, 30], b'GRX...'. */
function pythonRepr(d: DlmsData): string {
  switch (d.type) {
    case "array":
    case "structure":
      return `[${d.value.map(pythonRepr).join(", ")}]`;
    case "octet-string":
      return `b'${Array.from(d.value, (c) => (c >= 0x20 && c < 0x7f && c !== 0x27 && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`)).join("")}'`;
    case "null-data":
      return "None";
    case "boolean":
      return d.value ? "True" : "False";
    default:
      return "value" in d ? String(d.value) : d.type;
  }
}

interface VectorRead {
  read?: string;
  raw?: string;
  decoded?: string;
}

const reads = vectorFiles(/\.json$/).flatMap((file) =>
  (JSON.parse(readFileSync(join(VECTORS_DIR, file), "utf8")) as VectorRead[])
    .filter((r): r is Required<VectorRead> => r.raw !== undefined && r.decoded !== undefined)
    .map((r) => [`${file} ${r.read}`, r.raw, r.decoded] as const),
);

describe("captured A-XDR values", () => {
  it("there are vectors to check", () => {
    expect(reads.length).toBeGreaterThanOrEqual(8);
  });

  it.each(reads)("%s: %s", (_name, raw, decoded) => {
    const data = decodeData(fromHex(raw));
    expect(pythonRepr(data)).toBe(decoded);
    expect(toHex(encodeData(data))).toBe(toHex(fromHex(raw)));
  });
});

describe("captured clock reply with trailing bytes (gurux_hdlc_none)", () => {
  // GET-Response-Normal "C4 01 C1 00" + Data; the reference server appends bytes after the date-time octet-string.
  const frame = loadVectorFrames("gurux_hdlc_none.txt").find(
    (f) => f.dir === "rx" && toHex(f.bytes).includes("C4 01 C1 00 09 0C"),
  );
  const hex = toHex(frame!.bytes);
  const data = fromHex(hex.slice(hex.indexOf("C4 01 C1 00") + 12, hex.length - 9)); // drop APDU header, FCS and flag

  it("is rejected by the strict decoder", () => {
    expect(() => decodeData(data)).toThrow(DecodeError);
  });

  it("decodes leniently to the 12-byte clock and the trailing bytes", () => {
    const { data: clock, trailing } = decodeDataLenient(data);
    expect(clock.type).toBe("octet-string");
    expect(toHex((clock as { value: Uint8Array }).value)).toBe("07 EA 0B 1A 04 16 14 00 00 00 00 00");
    expect(trailing.length).toBe(data.length - 14);
    expect(trailing.length).toBeGreaterThan(0);
  });
});
