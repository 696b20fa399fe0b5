/**
 * Sold-out answers from memory (`soldOutCacheMs`). When Redis refuses a
 * reservation because an item has only `available` units, the store keeps
 * that figure for a short time and refuses later requests for more than it
 * without calling Redis: in a flash sale almost every request comes after
 * the item sold out, and each would otherwise cost a round trip and a
 * script on the one Redis core that holds the hot item.
 *
 * Only refusals come from memory, never a reservation. A remembered figure
 * can only under-state the real one for as long as it is kept (units come
 * back by release, expiry, restock), so a refusal from memory may turn away
 * a buyer who could have had a unit, but nothing can be oversold. The
 * store forgets an item at once when it gives units back or writes the
 * figure itself; other processes' give-backs are seen when the time runs out.
 */

/** The most items remembered at once: an attacker asking for more than there is of every sku cannot grow it past this. */
export const SOLD_OUT_CACHE_ITEMS = 10_000;

interface Remembered {
  available: number;
  until: number;
}

export class SoldOutCache {
  private readonly items = new Map<string, Remembered>();
  /**
   * Forgets so far, of any item (the store's own reaping included). A
   * refusal Redis sent before a forget may say fewer units than are back by
   * now, and its handling can end after the forget's (a call that sent
   * first may take more steps after its reply than one that sent later):
   * it is not learnt. Counted for all items at once, which only ever learns
   * less: the next request asks Redis.
   */
  private forgets = 0;

  /** `ms` 0 remembers nothing. `now` is the clock (tests). */
  constructor(
    private readonly ms: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The units Redis last said `key` had, when a request for `qty` would be
   * refused by that figure and it is still fresh; undefined otherwise (ask Redis).
   */
  refusal(key: string, qty: number): number | undefined {
    const remembered = this.items.get(key);
    if (remembered === undefined) return undefined;
    if (this.now() >= remembered.until) {
      this.items.delete(key);
      return undefined;
    }
    return qty > remembered.available ? remembered.available : undefined;
  }

  /** What to pass to `learn` for a request about to be sent to Redis. */
  mark(): number {
    return this.forgets;
  }

  /**
   * Remembers that Redis refused a request for `key` with `available` units
   * left, unless the store forgot something since the request's `mark`.
   */
  learn(key: string, available: number, mark: number): void {
    if (this.ms === 0 || mark !== this.forgets) return;
    // Delete first so that the item moves to the end: the oldest entries go first when full.
    this.items.delete(key);
    if (this.items.size >= SOLD_OUT_CACHE_ITEMS) this.items.delete(this.items.keys().next().value as string);
    this.items.set(key, { available, until: this.now() + this.ms });
  }

  /**
   * Redis granted a reservation of `key` and left `remaining` units (-1
   * unlimited): a remembered figure goes down with it, so that the next
   * refusal from memory says what this store last knew.
   */
  granted(key: string, remaining: number): void {
    const remembered = this.items.get(key);
    if (remembered !== undefined && remaining >= 0) remembered.available = Math.min(remembered.available, remaining);
  }

  /** Units of `key` may have come back: ask Redis next time. */
  forget(key: string): void {
    this.forgets++;
    this.items.delete(key);
  }
}
