/**
 * Every Redis key of one stock item, built in this one place.
 *
 * The item's name sits inside a hash tag, so that on a Redis Cluster its
 * figure, holds and lock share a slot and one script can touch them all. The
 * name is escaped so that it can never close the tag early or forge another
 * item's key: `%`, `{` and `}` become `%25`, `%7B` and `%7D` (an injective
 * mapping, so two names never share a key). The figure's key ends with the
 * tag; every other key ends with a suffix, so no two kinds can meet.
 */
export interface StockKeys {
  stock: string;
  lock: string;
  /** The six keys of every hold script, in their order. */
  holds: HoldKeys;
}

/**
 * The six keys every hold script takes, in this order (their layout is
 * described in lua/includes/counters.lua).
 */
export type HoldKeys = [figure: string, holds: string, due: string, dueSorted: string, purge: string, quiet: string];

const TAG_BREAKERS = /[%{}]/g;
const ESCAPES: Record<string, string> = { '%': '%25', '{': '%7B', '}': '%7D' };

/** `prefix{escaped name}`: an item's tagged base, and its figure's key. */
export function taggedKey(prefix: string, name: string): string {
  return `${prefix}{${name.replace(TAG_BREAKERS, (c) => ESCAPES[c] as string)}}`;
}

export function stockKeys(prefix: string, key: string): StockKeys {
  const stock = taggedKey(prefix, key);
  return {
    stock,
    lock: `${stock}:lock`,
    holds: [stock, `${stock}:holds`, `${stock}:due`, `${stock}:due-sorted`, `${stock}:purge`, `${stock}:quiet`],
  };
}

// Enough for every item of a busy shop; past it the memo starts afresh, so
// its memory stays bounded whatever keys arrive.
const MEMO_LIMIT = 10_000;

/**
 * stockKeys for one prefix, memoised: the hot path builds an item's keys
 * once, not on every reservation (a flash sale asks for one item's keys
 * thousands of times a second).
 */
export class StockKeysMemo {
  private readonly memo = new Map<string, StockKeys>();

  constructor(private readonly prefix: string) {}

  of(key: string): StockKeys {
    let keys = this.memo.get(key);
    if (keys === undefined) {
      if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
      keys = stockKeys(this.prefix, key);
      this.memo.set(key, keys);
    }
    return keys;
  }
}

/**
 * The idempotency record of a request key (its own item, its own slot).
 * Within a scope, the tag holds the JSON of [scope, key] and the key ends
 * in `:scoped`: JSON and the tag's escaping are injective, and the suffix
 * keeps scoped records apart from unscoped ones, so no scope and key can
 * name another pair's record.
 */
export function requestKey(prefix: string, idempotencyKey: string, scope?: string): string {
  if (scope === undefined) return `${taggedKey(`${prefix}request:`, idempotencyKey)}:record`;
  return `${taggedKey(`${prefix}request:`, JSON.stringify([scope, idempotencyKey]))}:scoped`;
}
