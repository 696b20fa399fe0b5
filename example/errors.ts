/** The shop's error answers: one JSON shape for every 4xx and 5xx, whoever raised it. */
import type { ErrorRequestHandler, RequestHandler } from 'express';
import createError, { isHttpError, type HttpError } from 'http-errors';
import type { Logger } from 'pino';
import { errorBody, type ErrorBody } from '../lib';

/**
 * The library's error shape (reserveStock answers its own refusals in it),
 * and `GET /readyz`'s 503 names which of `redis` and `database` did not answer.
 */
export type ShopErrorBody = ErrorBody & { error: { down?: string[] } };

/** A sku no product has. */
export function unknownProduct(sku: string): HttpError<404> {
  return createError(404, `Unknown product ${JSON.stringify(sku)}`);
}

/** Any path no route serves. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(createError(404, `Cannot ${req.method} ${req.path}`));
};

/**
 * Turns every error that reaches the app's handler, express.json()'s and
 * the routes' own (the shop's `ERR_SHOP_*` codes), into the library's
 * shape, `{ error: { status, code, message, ... } }`. Only messages meant
 * for clients are shown; stack traces never are, and unexpected errors are
 * logged here.
 */
export function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const body = errorBody(error);
    // A bug, not a known condition (the library reports its 503s through onEvent).
    if (body.error.status === 500 && !isHttpError(error)) logger.error({ err: error }, 'unexpected error');
    res.status(body.error.status).json(body);
  };
}
