import { badInput } from '../errors';

/** Longest key accepted, in UTF-16 code units: a sku, not a document. */
export const MAX_KEY_LENGTH = 512;

/** Throws a 400 unless `key` is a non-empty string of at most MAX_KEY_LENGTH. */
export function assertKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw badInput('The stock key must be a non-empty string');
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw badInput(`The stock key must be at most ${MAX_KEY_LENGTH} characters`);
  }
  // A lone surrogate has no UTF-8 form: Redis would get U+FFFD in its place,
  // and 'a\uD800' would share a figure with 'a\uFFFD'.
  if (!key.isWellFormed()) {
    throw badInput('The stock key must be well-formed Unicode text (no lone surrogates)');
  }
}

/** The stock figure of an item sold without limit (a download, a service): a loader's answer, a reservation's `remaining`. */
export const UNLIMITED_STOCK = -1;

/**
 * The largest quantity, stock figure or restock the store takes: 2^31 - 1.
 * Plenty for stock, and far inside the integers the Lua scripts carry
 * exactly (2^53), whatever sums they make.
 */
export const MAX_UNITS = 2 ** 31 - 1;

function isUnits(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= MAX_UNITS;
}

/** Throws a 400 unless `qty` is a whole number from 1 to {@link MAX_UNITS}. */
export function assertQuantity(qty: unknown): asserts qty is number {
  if (!isUnits(qty, 1)) {
    throw badInput(`The quantity must be a whole number from 1 to ${MAX_UNITS}`);
  }
}

/** True for a stock figure: a whole number from 0 to {@link MAX_UNITS}, or {@link UNLIMITED_STOCK}. */
export function isStockFigure(value: unknown): value is number {
  return isUnits(value, UNLIMITED_STOCK);
}

/** Throws a 400 unless `qty` is a stock figure (see {@link isStockFigure}). */
export function assertStockFigure(qty: unknown): asserts qty is number {
  if (!isStockFigure(qty)) {
    throw badInput(`The stock must be a whole number from 0 to ${MAX_UNITS}, or -1 for unlimited`);
  }
}

/** Throws a 400 unless `value` is a whole number from `min` to `max`; `name` says which. */
export function assertWholeNumber(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw badInput(max === Number.MAX_SAFE_INTEGER ? `${name} must be a whole number >= ${min}` : `${name} must be a whole number from ${min} to ${max}`);
  }
}

/** Throws a 400 unless `limit` is a per-customer limit: a whole number from 0 (none) to {@link MAX_UNITS}. */
export function assertLimit(limit: unknown): asserts limit is number {
  if (!isUnits(limit, 0)) {
    throw badInput(`The per-customer limit must be a whole number from 0 (none) to ${MAX_UNITS}`);
  }
}
