import type { ErrorRequestHandler, Request } from 'express';
import type { Redis } from 'ioredis';

/** The body every contender receives: the example checkout's `POST /orders`. */
export interface OrderBody {
  sku: string;
  qty: number;
  payment: string;
}

export const orderSku = (req: Request): string => (req.body as OrderBody).sku;
export const orderQty = (req: Request): number => (req.body as OrderBody).qty;

/** Answers an error with its status and a small JSON body, never a stack. */
export const jsonErrors: ErrorRequestHandler = (err, _req, res, _next) => {
  const e = err as { status?: number; statusCode?: number; code?: string };
  const status = e.status ?? e.statusCode ?? 500;
  res.status(status).json({ error: e.code ?? (status >= 500 ? 'internal' : 'error') });
};

/** Checks the order body cheaply; a broken one is a 400. */
export function isOrderBody(body: unknown): body is OrderBody {
  const b = body as Partial<OrderBody> | undefined;
  return typeof b?.sku === 'string' && Number.isSafeInteger(b.qty) && (b.qty as number) > 0;
}

/** Deletes every key under `prefix` (unique per run and contender). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}
