import createError, { type HttpError } from 'http-errors';
import type { OverLimitLine, ShortLine } from '../types';

/** Properties of the 409 error a sold-out reservation passes to `next`. */
export interface SoldOutDetails {
  key: string;
  requested: number;
  available: number;
}

/** The 409 a sold-out reservation passes to `next`. */
export type SoldOutError = HttpError<409> & SoldOutDetails;

/** A 400 for input that cannot be reserved; nothing was changed. */
export function badInput(message: string, cause?: unknown): HttpError<400> {
  return createError(400, message, { code: 'ERR_RESERVE_STOCK_INPUT', cause });
}

/**
 * The 409 of a sold-out reservation. In a flash sale most answers are this
 * one, and it is an expected outcome, not a fault: a stack trace would say
 * nothing, and createError's per-error prototype surgery would cost more than
 * the Redis round trip. So this class is built like a plain object, and
 * chained once to http-errors' own Conflict so that `instanceof` and
 * `isHttpError` still hold.
 */
class SoldOut extends Error implements SoldOutDetails {
  readonly status = 409;
  readonly statusCode = 409;
  readonly expose = true;
  readonly code = 'ERR_RESERVE_STOCK_SOLD_OUT';

  constructor(
    readonly key: string,
    readonly requested: number,
    readonly available: number,
  ) {
    super(`Not enough stock for ${JSON.stringify(key)}`);
  }
}
Object.setPrototypeOf(SoldOut.prototype, createError.Conflict.prototype);
Object.defineProperty(SoldOut.prototype, 'name', { value: 'ConflictError' });

export function soldOut(key: string, requested: number, available: number): SoldOutError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new SoldOut(key, requested, available) as unknown as SoldOutError;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The 409 of a cart with short lines: each with what it asked for and what there is. */
export function cartSoldOut(short: readonly ShortLine[]): HttpError<409> & { lines: readonly ShortLine[] } {
  const named = short.map(({ key, requested, available }) => `${JSON.stringify(key)} (${available} of ${requested})`).join(', ');
  return createError(409, `Not enough stock for ${named}`, { code: 'ERR_RESERVE_STOCK_SOLD_OUT', lines: short }) as HttpError<409> & {
    lines: readonly ShortLine[];
  };
}

/**
 * The 409 of a reservation that would take its customer past their
 * per-customer limit of the item: nothing was reserved.
 */
export function limitReached(key: string, limit: number, requested: number, bought: number): HttpError<409> {
  return createError(409, `At most ${limit} of ${JSON.stringify(key)} per customer; ${bought} already bought or held`, {
    code: 'ERR_RESERVE_STOCK_LIMIT',
    key,
    limit,
    requested,
    bought,
  }) as HttpError<409>;
}

/** The 409 of a cart with lines past their customer's limits: each with its key, limit, requested and bought. */
export function cartOverLimit(over: readonly OverLimitLine[]): HttpError<409> & { lines: readonly OverLimitLine[] } {
  const named = over.map(({ key, limit }) => `${JSON.stringify(key)} (at most ${limit})`).join(', ');
  return createError(409, `Past the per-customer limit for ${named}`, { code: 'ERR_RESERVE_STOCK_LIMIT', lines: over }) as HttpError<409> & {
    lines: readonly OverLimitLine[];
  };
}

/**
 * A 409 for a hold that no longer keeps its units (it expired, or was
 * released): an order must not commit on it, as they may be sold again.
 */
export function holdLost(key: string, state: string): HttpError<409> {
  return createError(409, `The reservation of ${JSON.stringify(key)} is no longer held (${state})`, {
    code: 'ERR_RESERVE_STOCK_HOLD_LOST',
    key,
    state,
  });
}

/** A 503: Redis or the loader could not answer in time; nothing was reserved. */
export function unavailable(message: string, cause?: unknown): HttpError<503> {
  return createError(503, message, { code: 'ERR_RESERVE_STOCK_UNAVAILABLE', cause });
}

export const isHttpError = createError.isHttpError;
