import { createHash } from 'node:crypto';
import type { Request } from 'express';

/**
 * A value as JSON with every object's keys in order, at every depth, so that
 * `{"a":1,"b":2}` and `{"b":2,"a":1}` read the same. Arrays keep their order
 * (it is part of what they say); the rest is JSON.stringify's (toJSON first,
 * undefined and functions left out). Throws on a cycle or a BigInt.
 */
export function canonicalJson(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const object = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(object)
        .sort()
        .map((k) => [k, object[k]]),
    );
  });
}

/**
 * The default of the `fingerprint` option: the parsed body (what the body
 * parsers before the middleware left on `req.body`) as canonical JSON. No
 * body, or one no parser read, is the empty string: only the method, the
 * path and what is reserved tell such requests apart.
 */
export function bodyFingerprint(req: Request): string {
  return canonicalJson(req.body) ?? '';
}

/**
 * Which request an idempotency key was first used for: the method, the
 * path, what it reserves (`wanted`) and `detail` (the body, by default). A
 * retry must match it. A digest, so that a large body costs its record 43
 * characters, not its size.
 */
export function fingerprintOf(req: Request, wanted: unknown, detail: string): string {
  return createHash('sha256')
    .update(JSON.stringify([req.method, req.baseUrl + req.path, wanted, detail]))
    .digest('base64url');
}
