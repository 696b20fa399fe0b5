/**
 * Sold-out answers from memory (`soldOutCacheMs`). When Redis refuses a
 * reservation because an item has only `available` units, the store keeps
 * that figure for a short time and refuses later requests for more than it
 * without calling Redis: in a flash sale almost every request comes after
 * the item sold out, and each would otherwise cost a round trip and a
 * script on the one Redis core that holds the hot item.
 *
 * Only refusals come from memory, never a reservation, so nothing can be
 * oversold: a figure that has since gone down (others bought) only sends
 * requests on to Redis, and one that has gone up (units came back by
 * release, expiry, restock) may turn away a buyer who could have had a
 * unit, for as long as it is kept. The store forgets an item at once when
 * it gives units back or writes the figure itself; other processes'
 * give-backs are seen when the time runs out.
 *
 * A hot item's entry is renewed before it runs out: after the first quarter
 * of its life one request (the probe) goes on to Redis while the others are
 * still refused from memory, and the probe's refusal starts a new entry.
 * Without it every request that arrives while the first one after expiry
 * waits for Redis would go to Redis too: under load, a large share. The
 * other three quarters leave the probe's answer time to come back, however
 * busy the process.
 */

/** The most items remembered at once: an attacker asking for more than there is of every sku cannot grow it past this. */
export const SOLD_OUT_CACHE_ITEMS = 10_000;

interface Remembered {
  available: number;
  until: number;
  /** When a probe may go to Redis (see above). */
  renewAt: number;
  /** A probe went, and nothing has been learnt since. */
  probing: boolean;
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

  /** `ms` 0 remembers nothing. `now` is the clock: Date.now, looked up at each call (tests may hold it). */
  constructor(
    private readonly ms: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /**
   * The units Redis last said `key` had, when a request for `qty` would be
   * refused by that figure and it is still fresh; undefined otherwise (ask
   * Redis), and for the one request that renews a fresh entry.
   */
  refusal(key: string, qty: number): number | undefined {
    const remembered = this.items.get(key);
    if (remembered === undefined) return undefined;
    const now = this.now();
    if (now >= remembered.until) {
      this.items.delete(key);
      return undefined;
    }
    if (qty <= remembered.available) return undefined;
    if (now >= remembered.renewAt && !remembered.probing) {
      remembered.probing = true;
      return undefined;
    }
    return remembered.available;
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
    const now = this.now();
    this.items.set(key, { available, until: now + this.ms, renewAt: now + this.ms / 4, probing: false });
  }

  /**
   * Redis granted a reservation of `key` and left `remaining` units (-1
   * unlimited): a remembered figure takes it, so that the next refusal from
   * memory says what this store last knew. A grant handled after a later
   * refusal can only raise the figure, which sends requests on to Redis.
   */
  granted(key: string, remaining: number): void {
    const remembered = this.items.get(key);
    if (remembered === undefined) return;
    if (remaining < 0) this.items.delete(key);
    else remembered.available = remaining;
  }

  /** Units of `key` may have come back: ask Redis next time. */
  forget(key: string): void {
    this.forgets++;
    this.items.delete(key);
  }
}
