interface Waiter {
  deadline: number;
  settled: boolean;
  expire: () => void;
}

/**
 * Deadlines of equal length, kept by one timer. Every command of a store
 * has the same timeout, so deadlines come in the order calls are made: a
 * FIFO swept by a single timer replaces a timer per call (a Timeout object,
 * a timer-list insert and a clearTimeout on the hot path).
 */
export class DeadlineQueue {
  private waiters: Waiter[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ms: number) {}

  /**
   * Runs `expire` after `ms` unless the returned `settle()` is called first;
   * `settle()` answers false when the deadline had passed.
   */
  add(expire: () => void): () => boolean {
    const waiter: Waiter = { deadline: Date.now() + this.ms, settled: false, expire };
    this.waiters.push(waiter);
    this.timer ??= setTimeout(this.sweep, this.ms).unref();
    return () => {
      if (waiter.settled) return false;
      waiter.settled = true;
      return true;
    };
  }

  private readonly sweep = (): void => {
    this.timer = undefined;
    const now = Date.now();
    const { waiters } = this;
    while (this.head < waiters.length) {
      const waiter = waiters[this.head] as Waiter;
      if (!waiter.settled) {
        if (waiter.deadline > now) break;
        waiter.settled = true;
        waiter.expire();
      }
      this.head++;
    }
    if (this.head === waiters.length) {
      this.waiters = [];
      this.head = 0;
    } else {
      if (this.head > 1024) {
        this.waiters = waiters.slice(this.head);
        this.head = 0;
      }
      const next = this.waiters[this.head] as Waiter;
      this.timer = setTimeout(this.sweep, Math.max(1, next.deadline - now)).unref();
    }
  };
}
