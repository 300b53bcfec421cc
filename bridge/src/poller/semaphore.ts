// Counting semaphore bounding concurrent connects. FIFO, O(1) per operation. A permit's release is idempotent so a
// watchdog and a late-settling operation can both release it safely.

export interface Permit {
  release(): void;
}

interface Waiter {
  resolve(permit: Permit): void;
  reject(error: Error): void;
}

export class SemaphoreClosedError extends Error {
  override name = "SemaphoreClosedError";
}

export class Semaphore {
  private free: number;
  private waiters: (Waiter | undefined)[] = [];
  private head = 0;
  private closed = false;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError(`semaphore capacity must be >= 1, got ${capacity}`);
    this.free = capacity;
  }

  get inUse(): number {
    return this.capacity - this.free;
  }

  get waiting(): number {
    return this.waiters.length - this.head;
  }

  acquire(): Promise<Permit> {
    if (this.closed) return Promise.reject(new SemaphoreClosedError("semaphore closed"));
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(this.permit());
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Rejects every waiter and every later acquire; permits already granted stay valid. */
  close(): void {
    this.closed = true;
    while (this.head < this.waiters.length) this.shift()?.reject(new SemaphoreClosedError("semaphore closed"));
  }

  private permit(): Permit {
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        const next = this.shift();
        if (next) next.resolve(this.permit());
        else this.free++;
      },
    };
  }

  private shift(): Waiter | undefined {
    if (this.head >= this.waiters.length) return undefined;
    const waiter = this.waiters[this.head];
    this.waiters[this.head++] = undefined;
    // Compact once the consumed prefix dominates, keeping memory bounded without O(n) work per shift.
    if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.head);
      this.head = 0;
    }
    return waiter;
  }
}
