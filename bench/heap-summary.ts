// Summarises a V8 .heapsnapshot by constructor (object, closure, native and code/string kinds): count and self size,
// largest first; with `perMeter`, also bytes per meter. Used by bench/memory.ts to say where memory per meter goes.
import { readFileSync } from "node:fs";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
}

export function summarizeHeapSnapshot(file: string, top = 30, perMeter?: number): string {
  const snap = JSON.parse(readFileSync(file, "utf8")) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const byName = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]!]!;
    const named = type === "object" || type === "closure" || type === "native";
    const key = named ? `${type}:${snap.strings[snap.nodes[i + iName]!]}` : type;
    const entry = byName.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + iSize]!;
    total += snap.nodes[i + iSize]!;
    byName.set(key, entry);
  }
  const lines = [`heap total ${(total / 2 ** 20).toFixed(1)} MB${perMeter ? `, ${(total / perMeter / 1024).toFixed(1)} kB per meter` : ""}`];
  lines.push("      kB    count  per meter  kind:constructor");
  for (const [key, { count, bytes }] of [...byName].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
    const each = perMeter ? `${(bytes / perMeter).toFixed(0).padStart(7)} B` : "";
    lines.push(`${(bytes / 1024).toFixed(0).padStart(8)} ${String(count).padStart(8)}  ${each}  ${key.slice(0, 80)}`);
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(summarizeHeapSnapshot(process.argv[2]!, Number(process.argv[3] ?? 40), Number(process.argv[4]) || undefined));
}
