import createError, { type HttpError } from 'http-errors';

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

export function soldOut(key: string, requested: number, available: number): SoldOutError {
  return createError(409, `Not enough stock for ${JSON.stringify(key)}`, {
    code: 'ERR_RESERVE_STOCK_SOLD_OUT',
    key,
    requested,
    available,
  }) as SoldOutError;
}

/** A 503: Redis or the loader could not answer in time; nothing was reserved. */
export function unavailable(message: string, cause?: unknown): HttpError<503> {
  return createError(503, message, { code: 'ERR_RESERVE_STOCK_UNAVAILABLE', cause });
}

export const isHttpError = createError.isHttpError;
