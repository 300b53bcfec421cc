// Values that thousands of links hold alike (HDLC parameters, address bytes, association facts): one shared copy
// per distinct value instead of one per meter. A table holds what peers answered, so it is capped: past the cap a
// value is returned unshared, which costs memory, never correctness.

const INTERN_LIMIT = 4096;

export class InternTable<T> {
  private readonly values = new Map<string, T>();

  /** The shared value for `key`, made (and kept, below the cap) on first use. `make` must not depend on more than `key`. */
  get(key: string, make: () => T): T {
    const known = this.values.get(key);
    if (known !== undefined) return known;
    const value = make();
    if (this.values.size < INTERN_LIMIT) this.values.set(key, value);
    return value;
  }

  get size(): number {
    return this.values.size;
  }
}
