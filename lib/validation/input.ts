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

/** Throws a 400 unless `qty` is a positive safe integer. */
export function assertQuantity(qty: unknown): asserts qty is number {
  if (typeof qty !== 'number' || !Number.isSafeInteger(qty) || qty <= 0) {
    throw badInput('The quantity must be a positive whole number');
  }
}

/** The stock figure of an item sold without limit (a download, a service): a loader's answer, a reservation's `remaining`. */
export const UNLIMITED_STOCK = -1;

/** True for a stock figure: an integer >= 0, or {@link UNLIMITED_STOCK}. */
export function isStockFigure(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= UNLIMITED_STOCK;
}

/** Throws a 400 unless `qty` is a stock figure (see {@link isStockFigure}). */
export function assertStockFigure(qty: unknown): asserts qty is number {
  if (!isStockFigure(qty)) {
    throw badInput('The stock must be a whole number >= 0, or -1 for unlimited');
  }
}
