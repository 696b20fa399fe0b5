/** The shop's error answers: one JSON shape for every 4xx and 5xx, whoever raised it. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import createError, { isHttpError, type HttpError } from 'http-errors';
import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import type { ShortLine } from '../lib';

/** The one shape of every error answer. */
export interface ErrorBody {
  error: {
    status: number;
    message: string;
    /** A stable code where the error has one: the library's `ERR_RESERVE_STOCK_*`, the shop's `ERR_SHOP_*`. */
    code?: string;
    /** A sold-out cart's short lines, each with what it asked for and what there is. */
    lines?: ShortLine[];
    /** `GET /readyz`'s 503: which of `redis` and `database` did not answer. */
    down?: string[];
  };
}

/** The codes an answer shows: the library's and the shop's own, never a dependency's (zlib's, say). */
const OWN_CODES = /^ERR_(RESERVE_STOCK|SHOP)_[A-Z_]+$/;

/** A sku no product has. */
export function unknownProduct(sku: string): HttpError<404> {
  return createError(404, `Unknown product ${JSON.stringify(sku)}`);
}

/**
 * The error's own status, as Express reads it: http-errors', or a plain
 * error's `status`/`statusCode` (Express 5's router throws a 400 URIError
 * for an undecodable path parameter); 500 for anything else.
 */
function statusOf(error: unknown): number {
  const { status, statusCode } = (error ?? {}) as { status?: unknown; statusCode?: unknown };
  const code = typeof status === 'number' ? status : statusCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500;
}

/** Any path no route serves. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(createError(404, `Cannot ${req.method} ${req.path}`));
};

/**
 * Turns every error, the library's and express.json()'s included, into
 * `{ error: { status, message, code? } }`. Only messages meant for clients
 * are shown (http-errors' `expose`, false for 5xx); the rest is never sent,
 * stack traces included, and unexpected errors are logged here.
 */
export function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const status = statusOf(error);
    // A bug, not a known condition (the library reports its 503s through onEvent).
    if (status === 500 && !isHttpError(error)) logger.error({ err: error }, 'unexpected error');
    const exposed = isHttpError(error) && error.expose;
    const body: ErrorBody = { error: { status, message: exposed ? error.message : (STATUS_CODES[status] ?? 'Error') } };
    const { code, lines } = error as { code?: unknown; lines?: unknown };
    if (exposed && typeof code === 'string' && OWN_CODES.test(code)) body.error.code = code;
    if (status === 409 && Array.isArray(lines)) body.error.lines = lines as ShortLine[];
    res.status(status).json(body);
  };
}
