// fast-check generators of arbitrary COSEM Data values (every type, nested, compact arrays with matching elements).
import fc from "fast-check";
import type { DlmsData, TypeDescription } from "../../../src/dlms/axdr/types.js";

type Leaf = Exclude<TypeDescription["type"], "array" | "structure">;

const int = (min: number, max: number) => fc.integer({ min, max });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });

const leafValue: { [K in Leaf]: fc.Arbitrary<DlmsData> } = {
  "null-data": fc.constant({ type: "null-data" }),
  "dont-care": fc.constant({ type: "dont-care" }),
  boolean: fc.boolean().map((value) => ({ type: "boolean", value })),
  "bit-string": fc.array(fc.boolean(), { maxLength: 40 }).map((value) => ({ type: "bit-string", value })),
  "double-long": int(-(2 ** 31), 2 ** 31 - 1).map((value) => ({ type: "double-long", value })),
  "double-long-unsigned": int(0, 2 ** 32 - 1).map((value) => ({ type: "double-long-unsigned", value })),
  "octet-string": fc.uint8Array({ maxLength: 300 }).map((value) => ({ type: "octet-string", value })),
  "visible-string": fc
    .string({ unit: int(0, 255).map((c) => String.fromCharCode(c)), maxLength: 140 })
    .map((value) => ({ type: "visible-string", value })),
  "utf8-string": fc.string({ unit: "grapheme", maxLength: 20 }).map((value) => ({ type: "utf8-string", value })),
  bcd: int(0, 255).map((value) => ({ type: "bcd", value })),
  integer: int(-128, 127).map((value) => ({ type: "integer", value })),
  long: int(-32768, 32767).map((value) => ({ type: "long", value })),
  unsigned: int(0, 255).map((value) => ({ type: "unsigned", value })),
  "long-unsigned": int(0, 65535).map((value) => ({ type: "long-unsigned", value })),
  long64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ type: "long64", value })),
  "long64-unsigned": fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((value) => ({ type: "long64-unsigned", value })),
  enum: int(0, 255).map((value) => ({ type: "enum", value })),
  float32: fc.float().map((value) => ({ type: "float32", value })),
  float64: fc.double().map((value) => ({ type: "float64", value })),
  "date-time": bytes(12).map((value) => ({ type: "date-time", value })),
  date: bytes(5).map((value) => ({ type: "date", value })),
  time: bytes(4).map((value) => ({ type: "time", value })),
};

const LEAVES = Object.keys(leafValue) as Leaf[];
// Compact-array elements must take at least one byte, so their descriptions use no zero-size types.
const SIZED_LEAVES = LEAVES.filter((t) => t !== "null-data" && t !== "dont-care");

export const typeDescription: fc.Arbitrary<TypeDescription> = fc.letrec<{ d: TypeDescription }>((tie) => ({
  d: fc.oneof(
    { maxDepth: 3, depthIdentifier: "description" },
    fc.constantFrom(...SIZED_LEAVES).map((type) => ({ type }) as TypeDescription),
    fc.record({ type: fc.constant("array" as const), count: int(1, 3), element: tie("d") }),
    fc.record({
      type: fc.constant("structure" as const),
      elements: fc.array(tie("d"), { minLength: 1, maxLength: 3 }),
    }),
  ),
})).d;

export function valueMatching(d: TypeDescription): fc.Arbitrary<DlmsData> {
  if (d.type === "array") {
    return fc
      .array(valueMatching(d.element), { minLength: d.count, maxLength: d.count })
      .map((value) => ({ type: "array", value }));
  }
  if (d.type === "structure") {
    return fc.tuple(...d.elements.map(valueMatching)).map((value) => ({ type: "structure", value }));
  }
  return leafValue[d.type];
}

const compactArray: fc.Arbitrary<DlmsData> = typeDescription.chain((description) =>
  fc
    .array(valueMatching(description), { maxLength: 4 })
    .map((value) => ({ type: "compact-array", description, value })),
);

export const dlmsData: fc.Arbitrary<DlmsData> = fc.letrec<{ data: DlmsData }>((tie) => ({
  data: fc.oneof(
    { maxDepth: 5, depthIdentifier: "data" },
    ...LEAVES.map((t) => leafValue[t]),
    compactArray,
    fc.array(tie("data"), { maxLength: 4 }).map((value) => ({ type: "array", value }) as DlmsData),
    fc.array(tie("data"), { maxLength: 4 }).map((value) => ({ type: "structure", value }) as DlmsData),
  ),
})).data;
