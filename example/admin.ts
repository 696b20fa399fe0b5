import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import createError from 'http-errors';

/** Methods that only read: everything else under a guarded path changes stock. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** A fresh token for an app started without ADMIN_TOKEN: unguessable, and printed once. */
export function randomAdminToken(): string {
  return randomBytes(24).toString('base64url');
}

// Hashing first gives both sides the same length, so timingSafeEqual never
// throws and the time taken tells nothing about the token's length either.
function sameToken(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Lets a request through only with `Authorization: Bearer <token>`: none
 * (or another scheme) is a 401, a wrong token a 403.
 */
export function requireAdmin(token: string): RequestHandler {
  return (req, res, next) => {
    const bearer = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '');
    if (!bearer) {
      res.set('WWW-Authenticate', 'Bearer');
      next(createError(401, 'This route needs Authorization: Bearer <ADMIN_TOKEN>'));
    } else if (!sameToken(bearer[1] as string, token)) {
      next(createError(403, 'Wrong admin token'));
    } else {
      next();
    }
  };
}

/** {@link requireAdmin} for the writes only: reads stay open to buyers. */
export function requireAdminForWrites(token: string): RequestHandler {
  const guard = requireAdmin(token);
  return (req, res, next) => (READS.has(req.method) ? next() : guard(req, res, next));
}
