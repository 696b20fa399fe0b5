/**
 * Who is buying: a stand-in for the shop's own session or login, which a
 * real shop would use instead. Each browser gets a random customer id on its
 * first visit, in a signed, HttpOnly cookie (`customer`); a forged or
 * tampered cookie is replaced by a new id. Tests and load tools, which keep
 * no cookies, name the customer in an `X-Customer-Id` header instead, which
 * is taken only from a request that carries the admin token (401 without it,
 * 403 with a wrong one), so a buyer cannot pose as another. `req.customer`
 * is set for every request past this middleware; the order rows keep it.
 */
import { randomBytes } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import createError from 'http-errors';
import { requireAdmin } from './admin';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The customer the request is from (see example/customer.ts). */
      customer?: string;
    }
  }
}

export const CUSTOMER_COOKIE = 'customer';
export const CUSTOMER_HEADER = 'X-Customer-Id';

/** A customer id: what the cookie holds and the header may name. */
const CUSTOMER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** The customer of a request past {@link identifyCustomer}; throws when it is not in front of the route (a wiring mistake). */
export function customerOf(req: Request): string {
  if (req.customer === undefined) throw new Error('identifyCustomer runs before the routes that need the customer');
  return req.customer;
}

function newCustomerId(): string {
  return `c-${randomBytes(16).toString('base64url')}`;
}

/**
 * Sets `req.customer`. Needs cookie-parser with the app's cookie secret in
 * front of it (`req.signedCookies`).
 */
export function identifyCustomer(adminToken: string): RequestHandler {
  const admin = requireAdmin(adminToken);
  return (req, res, next) => {
    const named = req.get(CUSTOMER_HEADER);
    if (named !== undefined) {
      admin(req, res, (error?: unknown) => {
        if (error) next(error);
        else if (!CUSTOMER_ID.test(named)) next(createError(400, `${CUSTOMER_HEADER} must be 1 to 64 letters, digits, "-" or "_"`));
        else {
          req.customer = named;
          next();
        }
      });
      return;
    }
    // cookie-parser answers false for a cookie whose signature does not match.
    const signed = (req.signedCookies as Record<string, unknown> | undefined)?.[CUSTOMER_COOKIE];
    if (typeof signed === 'string' && CUSTOMER_ID.test(signed)) {
      req.customer = signed;
    } else {
      req.customer = newCustomerId();
      res.cookie(CUSTOMER_COOKIE, req.customer, { signed: true, httpOnly: true, sameSite: 'lax', secure: req.secure, path: '/', maxAge: YEAR_MS });
    }
    next();
  };
}

