import type { ErrorRequestHandler, RequestHandler } from 'express';
import createError, { isHttpError } from 'http-errors';
import { STATUS_CODES } from 'node:http';
import type { ShortLine } from '../lib';

/** The one shape of every error answer. */
export interface ErrorBody {
  /** `lines`: a sold-out cart's short lines, each with what it asked for and what there is. */
  error: { status: number; message: string; lines?: ShortLine[] };
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
 * `{ error: { status, message } }`. Only messages meant for clients are
 * shown (http-errors' `expose`, false for 5xx); the rest is never sent,
 * stack traces included, and unexpected errors are logged here.
 */
export const jsonErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const status = statusOf(error);
  // A bug, not a known condition (the library reports its 503s through onEvent).
  if (status === 500 && !isHttpError(error)) console.error(error);
  const message = isHttpError(error) && error.expose ? error.message : (STATUS_CODES[status] ?? 'Error');
  const body: ErrorBody = { error: { status, message } };
  const { lines } = error as { lines?: unknown };
  if (status === 409 && Array.isArray(lines)) body.error.lines = lines as ShortLine[];
  res.status(status).json(body);
};
