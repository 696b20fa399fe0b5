import type { NextFunction, Request, Response } from 'express';
import type { HttpError } from 'http-errors';
import { errorBody, isHttpError } from '../errors';

/**
 * What a refused request gets: called instead of `next(error)` with the
 * http-error of the refusal (400 bad input, 409 sold out, 409 or 422 of an
 * `Idempotency-Key`, 503, or the loader's own, say a 404). The default
 * answers it as JSON; `(error, req, res, next) => next(error)` hands it to
 * the app's Express error handler instead.
 */
export type RefusalHandler = (error: HttpError, req: Request, res: Response, next: NextFunction) => void;

/** Seconds a refused client is asked to wait before it retries a 503: Redis reconnecting, a loader finishing. */
const RETRY_AFTER_SECONDS = '1';

/**
 * The default handler: the error as JSON ({@link errorBody}), with its
 * headers (Retry-After on a 503). Nothing is logged: a sold-out answer is
 * the sale working, not a fault.
 */
export const answerAsJson: RefusalHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  if (error.headers) res.set(error.headers);
  const body = errorBody(error);
  // Written as it is, not through res.json: Express would hash every body for
  // an ETag, on each of a flash sale's sold-out answers, and an error has no use for one.
  res.status(body.error.status);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.end(JSON.stringify(body));
};

/**
 * Passes a refusal to `handler`: a 503 first gets a Retry-After in its
 * headers (http-errors' `headers`, which Express's own error handler sends
 * too). An error that is not an http-error is a fault, not a refusal: it
 * goes to `next`, where the app's error handling logs it. Whatever the
 * handler throws or rejects with goes there too, never to the process.
 */
export function refuse(error: unknown, handler: RefusalHandler, req: Request, res: Response, next: NextFunction): void {
  if (!isHttpError(error)) {
    next(error);
    return;
  }
  if (error.status === 503 && error.headers?.['Retry-After'] === undefined) {
    error.headers = { ...error.headers, 'Retry-After': RETRY_AFTER_SECONDS };
  }
  try {
    const handled: unknown = handler(error, req, res, next);
    if (handled instanceof Promise) handled.catch(next);
  } catch (fault) {
    next(fault);
  }
}
