/**
 * A flash sale over HTTP for the cluster tests: buyers of the example's
 * POST /orders who retry a 503 (Redis unavailable: nothing was reserved, so
 * a retry is safe) until they get a final answer, and the figures a run is
 * judged by.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** One answer to one POST /orders. */
export interface Attempt {
  buyer: number;
  sku: string;
  start: number;
  end: number;
  /** HTTP status, or 'net' for a connection error or a hang. */
  status: number | 'net';
}

export interface SaleOptions {
  buyers: number;
  /** Buyers in flight at once. */
  concurrency: number;
  /** Which sku buyer `i` wants (one unit). */
  sku(buyer: number): string;
  /** The app to send buyer `i`'s next attempt to (rotate for round-robin). */
  url(buyer: number): string;
  /** Buyers whose payment is declined (402), e.g. every tenth. */
  declines?(buyer: number): boolean;
  /** Called after each answer (to strike at a moment of the sale). */
  onAnswer?(attempt: Attempt, answered: number): void | Promise<void>;
}

const CLIENT_TIMEOUT_MS = 15_000;
const RETRY_DELAY_MS = 100;
/** A buyer gives up after this many 503s (a minute of retries): a failover never takes that long. */
const MAX_TRIES = 600;

/** One POST /orders; never throws. */
export async function orderOnce(url: string, buyer: number, sku: string, payment = 'card', qty = 1): Promise<Attempt> {
  const attempt: Attempt = { buyer, sku, start: Date.now(), end: 0, status: 'net' };
  try {
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku, qty, payment }),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    await res.arrayBuffer();
    attempt.status = res.status;
  } catch {
    attempt.status = 'net';
  }
  attempt.end = Date.now();
  return attempt;
}

/** Runs the sale; every attempt, retries included, in the order they ended. */
export async function runSale(options: SaleOptions): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  let next = 0;
  const buyer = async (i: number) => {
    const payment = options.declines?.(i) ? 'decline' : 'card';
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      const attempt = await orderOnce(options.url(i), i, options.sku(i), payment);
      attempts.push(attempt);
      await options.onAnswer?.(attempt, attempts.length);
      if (attempt.status !== 503 && attempt.status !== 'net') return;
      await sleep(RETRY_DELAY_MS);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(options.concurrency, options.buyers) }, async () => {
      while (next < options.buyers) await buyer(next++);
    }),
  );
  return attempts;
}

/** How many attempts answered `status`. */
export function countOf(attempts: Attempt[], status: number | 'net'): number {
  return attempts.filter((a) => a.status === status).length;
}

/** The 503s of a run: how many, and from the first one's start to the last one's end. */
export function burstOf(attempts: Attempt[]): { count: number; ms: number } {
  const failed = attempts.filter((a) => a.status === 503);
  if (failed.length === 0) return { count: 0, ms: 0 };
  return { count: failed.length, ms: Math.max(...failed.map((a) => a.end)) - Math.min(...failed.map((a) => a.start)) };
}

/** A Markdown table of figures (a header row, then a row a figure), for the log and the README. */
export function figureTable(rows: (string | number)[][]): string {
  const cells = rows.map((row) => row.map(String));
  const widths = (cells[0] ?? []).map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const [head, ...body] = cells;
  return [line(head ?? []), rule, ...body.map(line)].join('\n');
}
