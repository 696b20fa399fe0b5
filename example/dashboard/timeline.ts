/** One second of a sale, as the dashboard charts it. */
export interface SaleSecond {
  /** Seconds since the epoch. */
  t: number;
  /** Orders placed (201). */
  sales: number;
  /** Orders refused for want of stock (409). */
  soldOut: number;
  /** Answers 503: Redis or the database could not be reached in time. */
  unavailable: number;
  /** The last stock figure seen for each product in this second. */
  stock: Record<string, number>;
}

export type Tally = 'sales' | 'soldOut' | 'unavailable';

/**
 * A ring of per-second counts over the last `seconds`, in memory: the
 * dashboard's data. Only the seconds something happened in are kept, and at
 * most `maxProducts` products are followed at a time, so memory stays small
 * whatever the traffic or the catalogue.
 */
export class SaleTimeline {
  private buckets: SaleSecond[] = [];
  /** Followed products and the last second each was seen in. */
  private readonly lastSeen = new Map<string, number>();

  constructor(
    readonly seconds = 300,
    private readonly maxProducts = 20,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one answer in the current second. */
  count(tally: Tally): void {
    this.current()[tally]++;
  }

  /** Records a product's stock in the current second; unlimited stock (negative) has nothing to chart. */
  stock(sku: string, units: number): void {
    if (units < 0) return;
    const bucket = this.current();
    this.forgetOldProducts(bucket.t);
    if (!this.lastSeen.has(sku) && this.lastSeen.size >= this.maxProducts) return;
    this.lastSeen.set(sku, bucket.t);
    bucket.stock[sku] = units;
  }

  /** The products with a stock figure in the window. */
  products(): string[] {
    this.forgetOldProducts(this.nowSeconds());
    return [...this.lastSeen.keys()];
  }

  /** The seconds of the window that saw anything, oldest first. */
  window(): { now: number; seconds: number; buckets: SaleSecond[] } {
    const now = this.nowSeconds();
    this.dropBefore(now - this.seconds + 1);
    return { now, seconds: this.seconds, buckets: this.buckets };
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  private current(): SaleSecond {
    const t = this.nowSeconds();
    const last = this.buckets.at(-1);
    if (last?.t === t) return last;
    this.dropBefore(t - this.seconds + 1);
    const bucket: SaleSecond = { t, sales: 0, soldOut: 0, unavailable: 0, stock: {} };
    this.buckets.push(bucket);
    return bucket;
  }

  private dropBefore(t: number): void {
    const first = this.buckets.findIndex((bucket) => bucket.t >= t);
    this.buckets = first === -1 ? [] : this.buckets.slice(first);
  }

  private forgetOldProducts(t: number): void {
    for (const [sku, seen] of this.lastSeen) if (seen <= t - this.seconds) this.lastSeen.delete(sku);
  }
}
