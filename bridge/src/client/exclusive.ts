// One operation at a time, in call order (a DLMS association answers one request at a time). A free lock starts the
// operation at once, synchronously, with no queue promise to chain through; a busy one parks the caller, and the
// operation finishing hands its turn straight to the oldest parked caller (the lock is never free in between, so a
// later caller cannot overtake). A failed operation hands on its turn like any other.

export class Exclusive {
  private busy = false;
  /** Resumers of the parked callers, oldest first. */
  private readonly parked: Array<() => void> = [];

  /** Operations running or parked. */
  get pending(): number {
    return (this.busy ? 1 : 0) + this.parked.length;
  }

  /** Runs `operation` once every earlier one has settled; `onError` sees its error before the next one starts. */
  async run<T>(operation: () => Promise<T>, onError?: (error: unknown) => void): Promise<T> {
    if (this.busy) await new Promise<void>((resume) => this.parked.push(resume));
    else this.busy = true;
    try {
      return await operation();
    } catch (error) {
      onError?.(error);
      throw error;
    } finally {
      const next = this.parked.shift();
      if (next) next();
      else this.busy = false;
    }
  }
}
