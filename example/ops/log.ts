/**
 * The app's log: JSON lines (pino), and in them the request log, one line
 * per answered request (pino-http) with the method, the path, the status and
 * the time taken; the health probes are left out. Credentials never reach
 * it: the admin token, cookies and the customer header are redacted.
 */
import type { RequestHandler } from 'express';
import pino, { type DestinationStream, type Logger } from 'pino';
import { pinoHttp } from 'pino-http';

/** The probes' paths: a load balancer asks every few seconds, and the log would be nothing else. */
const PROBES = new Set(['/healthz', '/readyz']);

/** What the log never shows, wherever it appears. */
const REDACTED = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-customer-id"]', 'res.headers["set-cookie"]'];

/** The app's logger: JSON lines to `destination` (stdout by default), at LOG_LEVEL (info). */
export function createLogger(destination?: DestinationStream, level = process.env.LOG_LEVEL || 'info'): Logger {
  return pino({ level, redact: { paths: REDACTED, censor: '[redacted]' } }, destination);
}

/** A logger that writes nothing: for apps a test or a tool runs in its own process. */
export const silentLogger: Logger = pino({ enabled: false });

export function requestLog(logger: Logger): RequestHandler {
  return pinoHttp({
    logger,
    // 5xx are the shop's failures; 4xx are the buyers' (sold out, bad input) and stay at info.
    customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'info'),
    // The message a person reads; the fields (req, res, responseTime) carry the rest.
    customSuccessMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${req.url} ${res.statusCode}`,
    quietReqLogger: true,
    autoLogging: { ignore: (req) => PROBES.has(req.url ?? '') },
  });
}
