import type { ErrorRequestHandler, RequestHandler } from 'express';
import createError, { isHttpError } from 'http-errors';
import { errorBody } from '../lib';

/** Any path no route serves. */
export const notFound: RequestHandler = (req, _res, next) => {
  next(createError(404, `Cannot ${req.method} ${req.path}`));
};

/**
 * Turns every error that reaches the app's handler, express.json()'s and
 * the routes' own, into the library's shape, `{ error: { status, code,
 * message, ... } }` (reserveStock answers its own refusals in it). Only
 * messages meant for clients are shown; stack traces never are, and
 * unexpected errors are logged here.
 */
export const jsonErrors: ErrorRequestHandler = (error, _req, res, next) => {
  if (res.headersSent) {
    next(error);
    return;
  }
  const body = errorBody(error);
  // A bug, not a known condition (the library reports its 503s through onEvent).
  if (body.error.status === 500 && !isHttpError(error)) console.error(error);
  res.status(body.error.status).json(body);
};
