import { STATUS_CODES } from 'node:http';
import type { OverLimitLine, ShortLine } from '../types';
import { isHttpError } from './http';

/**
 * The one shape of an error answer: what the middleware sends for a
 * refused request, and what a shop's own error handler can send for the
 * rest (see {@link errorBody}).
 */
export interface ErrorBody {
  error: {
    status: number;
    /** A stable code: `ERR_RESERVE_STOCK_*` for the library's errors, or an http-error's own `code`. */
    code?: string;
    /** The error's message when it is meant for clients (http-errors' `expose`), else the status text. */
    message: string;
    /** A sold-out item: what was asked for and what there is; past its limit: the limit and what was bought. */
    key?: string;
    requested?: number;
    available?: number;
    limit?: number;
    bought?: number;
    /** A sold-out cart: its short lines; past a limit: the lines over theirs. */
    lines?: readonly (ShortLine | OverLimitLine)[];
    /** A retry whose first answer was too large to keep: that answer's status. */
    firstStatus?: number;
  };
}

/**
 * The error's status as Express reads it: `status` or `statusCode` when it
 * is an error status (Express 5's router throws a plain URIError with 400
 * for a path it cannot decode), 500 for anything else.
 */
function statusOf(error: unknown): number {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500;
}

/**
 * `{ error: { status, code, message, ... } }` for any error. Only what
 * http-errors marks as meant for clients (`expose`, false for a 5xx) shows
 * its message and details; a stack trace never does.
 */
export function errorBody(error: unknown): ErrorBody {
  const status = statusOf(error);
  const exposed = isHttpError(error) && error.expose;
  const { code, key, requested, available, limit, bought, lines, firstStatus } = (isHttpError(error) ? error : {}) as Record<string, unknown>;
  const message = exposed ? (error as Error).message : (STATUS_CODES[status] ?? 'Error');
  const body: ErrorBody['error'] = typeof code === 'string' ? { status, code, message } : { status, message };
  if (exposed) {
    if (typeof key === 'string') body.key = key;
    if (typeof requested === 'number') body.requested = requested;
    if (typeof available === 'number') body.available = available;
    if (typeof limit === 'number') body.limit = limit;
    if (typeof bought === 'number') body.bought = bought;
    if (Array.isArray(lines)) body.lines = lines as (ShortLine | OverLimitLine)[];
    if (typeof firstStatus === 'number') body.firstStatus = firstStatus;
  }
  return { error: body };
}
