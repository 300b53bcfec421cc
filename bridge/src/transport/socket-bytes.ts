// Moving bytes between the sans-IO core's Uint8Arrays and node:net without V8's slow path. A typed array of at
// most 64 bytes lives inside the V8 heap; node:net turns whatever it writes into a Buffer over `bytes.buffer`,
// and touching `.buffer` of such an array makes V8 move it off the heap first (a malloc, a copy and an ArrayBuffer
// to collect later): measured ≈ 540–700 ns for a 30-byte frame, against ≈ 110–140 ns for a copy into a Buffer
// from node's pool (BENCHMARKS.md, issue 9, fifth round). A GET request frame is ≈ 25 bytes.

/** V8's largest typed array kept inside the heap (v8_typed_array_max_size_in_heap, 64 in node's builds). */
const ON_HEAP_MAX = 64;

/** What to hand to socket.write(): small arrays as a pooled Buffer copy, larger ones (already off-heap) as they are. */
export function socketChunk(bytes: Uint8Array): Uint8Array {
  if (bytes.length > ON_HEAP_MAX || Buffer.isBuffer(bytes)) return bytes;
  const chunk = Buffer.allocUnsafe(bytes.length); // a slice of node's 8 kB pool
  chunk.set(bytes);
  return chunk;
}

/** A copy of `buffer[0, n)` that the caller owns (small reads copied byte by byte: cheaper than a view plus a copy). */
export function copyOut(buffer: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  if (n <= ON_HEAP_MAX) for (let i = 0; i < n; i++) out[i] = buffer[i]!;
  else out.set(buffer.subarray(0, n));
  return out;
}
