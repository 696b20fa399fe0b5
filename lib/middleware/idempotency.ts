import type { Request, Response } from 'express';
import createError from 'http-errors';
import { badInput } from '../errors';
import type { RequestRecord, StockStore } from '../types';
import { onResponseEnd } from './on-response-end';

/** Visible ASCII, as the Idempotency-Key header draft and payment APIs use. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** What a retry gets instead of a new reservation. */
export type Retry = { replay: RequestRecord & { state: 'done' } } | { error: Error };

/** A 400 unless `value` is an idempotency key; undefined (no key) passes. */
export function checkIdempotencyKey(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !IDEMPOTENCY_KEY.test(value)) {
    throw badInput('The Idempotency-Key must be 1 to 255 visible ASCII characters');
  }
  return value;
}

/** Which request a key was first used for (an item and quantity, or a cart's lines): a retry must be the same one. */
export function fingerprintOf(req: Request, ...wanted: unknown[]): string {
  return JSON.stringify([req.method, req.baseUrl + req.path, ...wanted]);
}

/**
 * Claims the key for this request; `undefined` when claimed (go ahead), or
 * what the retry gets: the first answer, a 409 while the first request
 * runs, a 422 when the key was used for another request.
 */
export async function claimRequest(
  store: StockStore,
  idempotencyKey: string,
  fingerprint: string,
  runningSeconds: number,
): Promise<Retry | undefined> {
  const record = await store.requests.claim(idempotencyKey, fingerprint, runningSeconds);
  if (record === null) return undefined;
  if (record.fingerprint !== fingerprint) {
    return { error: createError(422, 'This Idempotency-Key was used for another request', { code: 'ERR_RESERVE_STOCK_IDEMPOTENCY_MISMATCH' }) };
  }
  if (record.state === 'running') {
    return { error: createError(409, 'A request with this Idempotency-Key is still in progress', { code: 'ERR_RESERVE_STOCK_IDEMPOTENCY_RUNNING' }) };
  }
  return { replay: record };
}

/** Answers a retry with the first request's status and body. */
export function replay(res: Response, record: RequestRecord & { state: 'done' }): void {
  res.status(record.status);
  if (record.contentType) res.setHeader('Content-Type', record.contentType);
  res.setHeader('Idempotent-Replayed', 'true');
  res.end(Buffer.from(record.body, 'base64'));
}

/**
 * Records the answer when the response ends, for retries, before the
 * response goes out: a client that retries the moment it has the answer
 * finds it recorded, never "still in progress". A 5xx is not recorded, nor
 * an answer that could not be saved: the claim is dropped, so that a retry
 * runs again (the store reports the failure).
 */
export function recordOnEnd(res: Response, store: StockStore, idempotencyKey: string, fingerprint: string, seconds: number): void {
  onResponseEnd(
    res,
    (body) => {
      const status = res.statusCode;
      const saved =
        status >= 500
          ? store.requests.abandon(idempotencyKey)
          : store.requests.complete(
              idempotencyKey,
              {
                state: 'done',
                fingerprint,
                status,
                contentType: (res.getHeader('Content-Type') as string | undefined) ?? null,
                body: (body ?? Buffer.alloc(0)).toString('base64'),
              },
              seconds,
            );
      return saved.catch(() => {
        void store.requests.abandon(idempotencyKey).catch(() => undefined);
      });
    },
    true,
  );
}
