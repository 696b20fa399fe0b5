/**
 * Probes for a load balancer or an orchestrator.
 *
 * - `GET /healthz`, liveness: 200 `{ status: "ok" }` whenever the process
 *   answers HTTP at all; it touches neither Redis nor the database, so an
 *   outage of theirs never gets a healthy process restarted.
 * - `GET /readyz`, readiness: 200 `{ redis: "up", database: "up" }` when both
 *   answer within `timeoutMs`; otherwise 503 naming which did not (`down`), so
 *   that traffic goes to another instance meanwhile. Always answered within
 *   `timeoutMs` and a little.
 */
import { Router } from 'express';
import type { RedisClient } from '../../lib';
import type { Database } from '../db/database';
import type { ShopErrorBody } from '../errors';

/** Longest each readiness check may take. */
export const READY_TIMEOUT_MS = 1000;

type Check = () => Promise<unknown>;

/** `check`'s failure, or its not answering within `ms`, as a reason; null when it answered. */
async function failureOf(check: Check, ms: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([check().then(() => null), late]);
  } catch (error) {
    return (error as Error).message || String(error);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(redis: RedisClient, db: Database, timeoutMs = READY_TIMEOUT_MS): Router {
  const checks: Record<'redis' | 'database', Check> = {
    redis: () => redis.ping(),
    database: () => db.sequelize.query('SELECT 1'),
  };
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const names = Object.keys(checks) as (keyof typeof checks)[];
    const failures = await Promise.all(names.map((name) => failureOf(checks[name], timeoutMs)));
    res.set('Cache-Control', 'no-store');
    const down = names.filter((_, i) => failures[i] !== null);
    if (down.length === 0) {
      res.json(Object.fromEntries(names.map((name) => [name, 'up'])));
      return;
    }
    const reasons = down.map((name) => `${name} (${failures[names.indexOf(name)]})`).join(', ');
    const body: ShopErrorBody = { error: { status: 503, message: `Not ready: ${reasons}`, down } };
    res.status(503).json(body);
  });
  return router;
}
