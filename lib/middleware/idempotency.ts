import type { Request, Response } from 'express';
import createError from 'http-errors';
import { badInput } from '../errors';
import type { AnsweredRequest, RequestId, RequestRecord, StockStore } from '../types';
import { MAX_KEY_LENGTH } from '../validation/input';
import { onResponseEnd } from './on-response-end';
import { readFromRequest } from './read-from-request';

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

/**
 * The request's scope from `idempotencyScope`: a non-empty string of at
 * most MAX_KEY_LENGTH characters (it is part of a Redis key). An http-error
 * the function throws passes through; anything else is a 400.
 */
export async function readScope(read: (req: Request) => unknown, req: Request): Promise<string> {
  const scope = await readFromRequest(read, req, 'the idempotency scope');
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > MAX_KEY_LENGTH) {
    throw badInput(`The idempotency scope must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
  }
  return scope;
}

/**
 * Claims the record for this request; `undefined` when claimed (go ahead),
 * or what the retry gets: the first answer, a 409 while the first request
 * runs or when its answer was too large to keep, a 422 when the key was
 * used for another request.
 */
export async function claimRequest(
  store: StockStore,
  id: RequestId,
  fingerprint: string,
  runningSeconds: number,
): Promise<Retry | undefined> {
  const record = await store.requests.claim(id, fingerprint, runningSeconds);
  if (record === null) return undefined;
  if (record.fingerprint !== fingerprint) {
    return { error: createError(422, 'This Idempotency-Key was used for another request', { code: 'ERR_RESERVE_STOCK_IDEMPOTENCY_MISMATCH' }) };
  }
  if (record.state === 'running') {
    return { error: createError(409, 'A request with this Idempotency-Key is still in progress', { code: 'ERR_RESERVE_STOCK_IDEMPOTENCY_RUNNING' }) };
  }
  if (record.state === 'too-large') {
    return {
      error: createError(
        409,
        `The request with this Idempotency-Key was answered (status ${record.status}), but its answer was too large to keep for a replay; nothing was done again`,
        { code: 'ERR_RESERVE_STOCK_IDEMPOTENCY_TOO_LARGE', firstStatus: record.status },
      ),
    };
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

/** Where and how long {@link recordOnEnd} keeps an answer. */
export interface RecordPlan {
  id: RequestId;
  fingerprint: string;
  seconds: number;
  /** The largest body kept for a replay; a larger one keeps only its status. */
  maxBytes: number;
}

/**
 * Records the answer when the response ends, for retries, before the
 * response goes out: a client that retries the moment it has the answer
 * finds it recorded, never "still in progress". A body over `maxBytes` is
 * not kept (nor buffered past that size): the record then says only that
 * the request was answered, with which status. A 5xx is not recorded, nor an
 * answer that could not be saved: the claim is dropped, so that a retry runs
 * again (the store reports the failure).
 */
export function recordOnEnd(res: Response, store: StockStore, { id, fingerprint, seconds, maxBytes }: RecordPlan): void {
  onResponseEnd(
    res,
    (body) => {
      const status = res.statusCode;
      const answered: AnsweredRequest =
        body === null
          ? { state: 'too-large', fingerprint, status }
          : {
              state: 'done',
              fingerprint,
              status,
              contentType: (res.getHeader('Content-Type') as string | undefined) ?? null,
              body: body.toString('base64'),
            };
      const saved = status >= 500 ? store.requests.abandon(id) : store.requests.complete(id, answered, seconds);
      return saved.catch(() => {
        // Best effort: a claim that cannot be dropped either frees itself
        // when its running time is up.
        void store.requests.abandon(id).catch(() => undefined);
      });
    },
    maxBytes,
  );
}
