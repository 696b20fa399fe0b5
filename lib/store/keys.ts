/**
 * Every Redis key of one stock item, built in this one place.
 *
 * The item's name sits inside a hash tag, so that on a Redis Cluster its
 * figure and its lock share a slot and one script can touch both. The name is
 * escaped so that it can never close the tag early or forge another item's
 * key: `%`, `{` and `}` become `%25`, `%7B` and `%7D` (an injective mapping,
 * so two names never share a key).
 */
export interface StockKeys {
  stock: string;
  lock: string;
}

const TAG_BREAKERS = /[%{}]/g;
const ESCAPES: Record<string, string> = { '%': '%25', '{': '%7B', '}': '%7D' };

export function stockKeys(prefix: string, key: string): StockKeys {
  const tagged = `${prefix}{${key.replace(TAG_BREAKERS, (c) => ESCAPES[c] as string)}}`;
  return { stock: tagged, lock: `${tagged}:lock` };
}
