import { setTimeout as sleep } from 'node:timers/promises';
import createError from 'http-errors';
import type { Transaction } from 'sequelize';
import type { Database } from './db';

/** InnoDB's answers that roll the whole transaction back and ask for it to run again. */
const RETRIED = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const ATTEMPTS = 3;

function retriable(error: unknown): boolean {
  const code = (error as { parent?: { code?: unknown } }).parent?.code;
  return typeof code === 'string' && RETRIED.has(code);
}

/**
 * Runs `work` in a transaction, and again (up to 3 times in all, after a
 * short jittered pause) when InnoDB picked it as a deadlock's victim or its
 * lock wait timed out: the database rolled everything back, so running it
 * again is safe, and a busy shop answers the order instead of a 500. Past
 * that, a 503 (try again). `work` must be safe to rerun: the example's
 * payment stand-in is; a real provider's charge would carry an idempotency key.
 */
export async function transactionWithRetry<T>(db: Database, work: (transaction: Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.sequelize.transaction(work);
    } catch (error) {
      if (!retriable(error)) throw error;
      if (attempt === ATTEMPTS) throw createError(503, 'The database is busy; try again', { cause: error });
      await sleep(5 + Math.random() * 20 * attempt);
    }
  }
}
