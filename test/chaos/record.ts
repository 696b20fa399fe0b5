/**
 * Recording a chaos phase (./checks.ts reads the records): one buyer's
 * POST /orders as the buyer saw it, a worker's `GET /stats` and sold-out
 * counts (`GET /metrics`), and a sku's
 * books in the database (with a limited product's units per customer)
 * beside its figure, read with a plain GET and by reconcile (which then
 * fixes it).
 */
import type { Cluster, Redis } from 'ioredis';
import { stockKeys, type StockStore } from '../../lib';
import type { Database } from '../../example/db/database';
import type { OrderStats } from '../../example/ops/metrics';
import { parseMetrics } from '../helpers/prometheus';
import type { Attempt, Kind, SkuRecord } from './checks';

/** Who is buying, named by X-Customer-Id with the workers' admin token: an Idempotency-Key is its customer's, and a limit counts against them. */
export interface NamedCustomer {
  id: string;
  adminToken: string;
}

/** One POST /orders to the worker at `url`, with a client timeout; never throws. */
export async function attemptOrder(
  url: string,
  worker: number,
  order: { kind: Kind; sku: string; qty: number; payment: string; idemKey?: string; customer?: NamedCustomer },
  timeoutMs: number,
): Promise<Attempt> {
  const { kind, sku, qty, payment, idemKey, customer } = order;
  const attempt: Attempt = { kind, sku, qty, worker, start: Date.now(), end: 0, outcome: 'net', idemKey, customer: customer?.id };
  try {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (idemKey) headers['idempotency-key'] = idemKey;
    if (customer) Object.assign(headers, { authorization: `Bearer ${customer.adminToken}`, 'x-customer-id': customer.id });
    const res = await fetch(`${url}/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ sku, qty, payment }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    attempt.outcome = res.status;
    attempt.replayed = res.headers.get('idempotent-replayed') === 'true';
    try {
      const body = JSON.parse(text) as { id?: number; error?: { message?: string; code?: string } };
      if (res.status === 201) attempt.orderId = body.id;
      attempt.message = body.error?.message;
      attempt.code = body.error?.code;
    } catch {
      attempt.message = text.slice(0, 200);
    }
  } catch (error) {
    attempt.outcome = (error as Error).name === 'TimeoutError' ? 'timeout' : 'net';
    attempt.message = String((error as Error & { cause?: Error }).cause?.message ?? (error as Error).message);
  } finally {
    attempt.end = Date.now();
  }
  return attempt;
}

/** A worker's count of its order transactions and their outcomes. */
async function getOk(url: string, path: string): Promise<Response> {
  const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
  if (res.status !== 200) throw new Error(`GET ${url}${path}: ${res.status}`);
  return res;
}

export async function readStats(url: string): Promise<OrderStats> {
  return (await (await getOk(url, '/stats')).json()) as OrderStats;
}

/** A worker's sold-out answers so far, by what answered: its memory (soldOutCacheMs) or Redis. */
export interface SoldOutCounts {
  memory: number;
  redis: number;
}

export async function readSoldOut(url: string): Promise<SoldOutCounts> {
  const samples = parseMetrics(await (await getOk(url, '/metrics')).text());
  const of = (by: keyof SoldOutCounts) => samples.get(`reserve_stock_sold_out_total{answered_by="${by}"}`) ?? 0;
  return { memory: of('memory'), redis: of('redis') };
}

/**
 * A sku once its phase is over and its holds settled: the database's books,
 * the figure by a plain GET of its key beside reconcile's report, then
 * reconcile's fix and the drift after it. `acked`: the order ids the buyers
 * were given.
 */
export async function recordSku(
  sku: string,
  { db, store, redis, prefix }: { db: Database; store: StockStore; redis: Redis | Cluster; prefix: string },
  acked: ReadonlySet<number>,
): Promise<SkuRecord> {
  const product = async () => {
    const found = await db.Product.findOne({ where: { sku }, attributes: ['stock', 'perCustomerLimit'] });
    if (!found) throw new Error(`product ${sku} is gone`);
    return found;
  };
  const dbStock = async () => (await product()).stock;
  const orders = await db.Order.findAll({ where: { sku }, attributes: ['id', 'qty', 'customer'] });
  const { stock, perCustomerLimit: limit } = await product();
  const perCustomer: Record<string, number> = {};
  if (limit !== null) for (const o of orders) perCustomer[String(o.customer)] = (perCustomer[String(o.customer)] ?? 0) + o.qty;
  const report = await store.reconcile(sku, stock);
  const raw = await redis.get(stockKeys(prefix, sku).stock);
  const fixed = await store.reconcile(sku, stock, { fix: true });
  const driftAfterFix = fixed.fixed ? (await store.reconcile(sku, await dbStock())).drift : fixed.drift;
  return {
    sku,
    dbStock: stock,
    unitsOrdered: orders.reduce((sum, o) => sum + o.qty, 0),
    unacked: orders.filter((o) => !acked.has(o.id)).length,
    plain: raw === null ? null : Number(raw),
    reconciled: { redis: report.redis, held: report.held, drift: report.drift },
    driftAfterFix,
    limit,
    perCustomer,
  };
}
