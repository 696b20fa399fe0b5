/**
 * The order path, from request to answer. `POST /orders` (one item) and
 * `POST /carts/checkout` (a cart) share every step after the request is read:
 *
 * 1. `reserveStock` holds the units in Redis, counted toward the customer's
 *    per-customer limit of the product when it has one; a figure Redis does
 *    not have yet is loaded from the database by {@link loadStock}, with the
 *    product's limit.
 * 2. One database transaction ({@link placeOrder}): the database's own last
 *    check ({@link takeStock}, the guard), an order row per line naming its
 *    hold, the payment, and the holds prepared just before COMMIT.
 * 3. The holds committed; 201.
 *
 * The give-back paths ({@link giveBack}): a declined payment (402) or any
 * other failure releases every hold; a line the database refused keeps its
 * hold and gives back only what the database still has ({@link keepRefused});
 * a repeat of an order already placed releases this attempt's holds. A worker
 * that dies after step 2 leaves its holds in doubt: ./in-doubt.ts settles
 * them against the order rows.
 *
 * Idempotency-Keys belong to the customer (./customer.ts): the same key from
 * two customers is two orders, in Redis's records (`idempotencyScope`) and
 * in the orders table (unique per customer and key, migration 006).
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Router, type Request, type RequestHandler } from 'express';
import createError, { type HttpError } from 'http-errors';
import { QueryTypes, UniqueConstraintError, type Transaction } from 'sequelize';
import { MAX_CART_LINES, reserveStock, UNLIMITED_STOCK, type LoadedStock, type Reservation, type StockStore } from '../lib';
import { customerOf } from './customer';
import type { Database } from './db/database';
import type { OrderRow } from './db/models';
import { unknownProduct } from './errors';
import { parseCart, parseOrder, type OrderLine, type OrderRequest } from './validate';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** What the buyer asks for, read once from the request (set by the order routes). */
      order?: OrderRequest & { idempotencyKey: string | undefined };
    }
  }
}

/** The order path's routes: what the dashboard counts as sales and sold-out answers. */
export const ORDER_PATHS: readonly string[] = ['/orders', '/carts/checkout'];

/** How an order that reached the database ended. */
export type OrderOutcome = 'paid' | 'repeated' | 'declined' | 'guard-refused' | 'failed';

/** Hears of every order's database transaction: the app's metrics and `GET /stats`. */
export interface OrderObserver {
  /** An order's transaction begins (step 2). */
  began(): void;
  /** How it ended, once its holds are settled. */
  ended(outcome: OrderOutcome): void;
}

/** `POST /orders` `{ sku, qty, payment }` and `POST /carts/checkout` `{ items: [{ sku, qty }], payment }`. */
export function checkoutRoutes(db: Database, store: StockStore, observer: OrderObserver): Router {
  const loader = (sku: string) => loadStock(db, sku);
  // The customer (./customer.ts): whose Idempotency-Key it is, and whom a product's per-customer limit counts against.
  const customer = { idempotencyKey: (req: Request) => orderOf(req).idempotencyKey, idempotencyScope: customerOf, customer: customerOf };
  const router = Router();

  router.post(
    '/orders',
    readOrder(parseOrder),
    reserveStock({ store, key: (req) => firstLine(req).sku, qty: (req) => firstLine(req).qty, loader, ...customer }),
    async (req, res) => {
      const [order] = (await checkout(req, db, store, observer)) as [OrderRow];
      res.status(201).json(orderView(order));
    },
  );

  router.post(
    '/carts/checkout',
    readOrder(parseCart),
    reserveStock({ store, items: (req) => orderOf(req).lines.map(({ sku, qty }) => ({ key: sku, qty })), loader, ...customer }),
    async (req, res) => {
      const orders = await checkout(req, db, store, observer);
      res.status(201).json({ orders: orders.map(orderView) });
    },
  );

  return router;
}

/** Reads the body (a 400 when it is bad) and the Idempotency-Key, once, into `req.order`. */
function readOrder(parse: (body: unknown) => OrderRequest): RequestHandler {
  return (req, _res, next) => {
    req.order = { ...parse(req.body), idempotencyKey: req.get('Idempotency-Key') };
    next();
  };
}

function orderOf(req: Request): NonNullable<Request['order']> {
  if (!req.order) throw new Error('the order routes read the order before anything uses it');
  return req.order;
}

function firstLine(req: Request): OrderLine {
  return orderOf(req).lines[0] as OrderLine;
}

function orderView({ id, sku, qty, status }: OrderRow) {
  return { id, sku, qty, status };
}

/** Steps 2 and 3 for the units reserveStock holds, or a give-back path; the order rows. */
async function checkout(req: Request, db: Database, store: StockStore, observer: OrderObserver): Promise<OrderRow[]> {
  // Set by reserveStock, which calls next() only once every unit is held.
  const reservation = req.reservation as NonNullable<Request['reservation']>;
  const holds = reservation.kind === 'cart' ? reservation.holds : [reservation];
  const { payment, idempotencyKey } = orderOf(req);
  observer.began();
  try {
    const { orders, repeated } = await placeOrder(db, holds, { payment, idempotencyKey, customer: customerOf(req) });
    // A repeat of an order already placed: its units were taken then, so this attempt's go back.
    await Promise.all(holds.map((hold) => (repeated ? hold.release() : hold.commit())));
    observer.ended(repeated ? 'repeated' : 'paid');
    return orders;
  } catch (error) {
    observer.ended(await giveBack(store, holds, error));
    throw error;
  }
}

// ---- 1. the loader ---------------------------------------------------------

/**
 * The stock loader of reserveStock: a product's stock as the database has it
 * (the source of truth), for a figure Redis does not have yet, and its
 * per-customer limit (0: none), which Redis keeps with the figure; 404 for an
 * unknown sku, which writes nothing to Redis. It answers for the product's
 * own spelling only: Redis keys a figure by the sku's bytes, so a loader
 * that answered `MUG-LOGO` with `mug-logo`'s stock would give that product a
 * second figure. The sku column's collation is binary (migration 004); the
 * comparison here holds on a database whose collation is not.
 */
export async function loadStock(db: Database, sku: string): Promise<LoadedStock> {
  const product = await db.Product.findOne({ where: { sku }, attributes: ['sku', 'stock', 'perCustomerLimit'] });
  if (!product || product.sku !== sku) throw unknownProduct(sku);
  return { stock: product.stock, limit: product.perCustomerLimit ?? 0 };
}

// ---- 2. the database transaction -------------------------------------------

/**
 * Every line's decrement (the database's guard) and order row, the payment,
 * and the holds prepared: all or nothing; or the rows an earlier attempt with
 * this Idempotency-Key placed (`repeated`). The holds are prepared last,
 * inside the transaction: should this process die between the database's
 * COMMIT and the holds' commit, they wait in doubt for the order rows (which
 * name them) instead of giving their units back for sale a second time.
 */
async function placeOrder(
  db: Database,
  holds: readonly Reservation[],
  { payment, idempotencyKey, customer }: { payment: string; idempotencyKey: string | undefined; customer: string },
): Promise<{ orders: OrderRow[]; repeated: boolean }> {
  const lines = holds.map(({ key, qty, holdId }) => ({ sku: key, qty, holdId }));
  const earlier = (transaction?: Transaction) =>
    idempotencyKey === undefined ? null : earlierOrders(db, lines, { customer, idempotencyKey }, transaction);
  try {
    return await transactionWithRetry(db, async (transaction) => {
      const placed = await earlier(transaction);
      if (placed) return { orders: placed, repeated: true };
      const orders: OrderRow[] = [];
      for (const [i, { sku, qty, holdId }] of lines.entries()) {
        await takeStock(db, sku, qty, transaction);
        const key = idempotencyKey === undefined ? null : lineKey(idempotencyKey, i);
        orders.push(await db.Order.create({ sku, qty, status: 'pending', holdId, idempotencyKey: key, customer }, { transaction }));
      }
      await chargePayment(payment);
      for (const order of orders) await order.update({ status: 'paid' }, { transaction });
      await Promise.all(holds.map((hold) => hold.prepare()));
      return { orders, repeated: false };
    });
  } catch (error) {
    // Two attempts of one customer with one key raced past Redis: the unique index let the other one in.
    if (error instanceof UniqueConstraintError) {
      const placed = await earlier();
      if (placed) return { orders: placed, repeated: true };
    }
    throw error;
  }
}

/** The database's refusal of units Redis had granted: Redis over-stated the stock of `sku`. */
export type GuardRefusal = HttpError<409> & { code: 'ERR_SHOP_DATABASE_REFUSED'; sku: string; dbStock: number };

export function isGuardRefusal(error: unknown): error is GuardRefusal {
  return createError.isHttpError(error) && (error as { code?: unknown }).code === 'ERR_SHOP_DATABASE_REFUSED';
}

/**
 * The database's guard: takes `qty` units inside the order's transaction,
 * whatever Redis said. The conditional UPDATE never lets stock go below 0;
 * when it matches no row, the locked row tells why (unknown, unlimited, or
 * too few units: a {@link GuardRefusal}, whose code tells it from the
 * middleware's sold-out 409).
 */
export async function takeStock(db: Database, sku: string, qty: number, transaction: Transaction): Promise<void> {
  const updated = await db.sequelize.query('UPDATE products SET stock = stock - ? WHERE sku = ? AND stock >= ?', {
    replacements: [qty, sku, qty],
    type: QueryTypes.BULKUPDATE,
    transaction,
  });
  if (updated === 1) return;
  const product = await db.Product.findOne({ where: { sku }, attributes: ['stock'], transaction, lock: true });
  if (!product) throw unknownProduct(sku);
  if (product.stock === UNLIMITED_STOCK) return;
  throw createError(409, `Not enough stock for ${JSON.stringify(sku)}`, {
    code: 'ERR_SHOP_DATABASE_REFUSED',
    sku,
    dbStock: product.stock,
  }) as GuardRefusal;
}

/**
 * A stand-in for a payment provider: `"decline"` is refused with a 402,
 * anything else is approved. It runs inside the order's transaction, as a
 * real charge would, so a refusal rolls the order back.
 */
export async function chargePayment(method: string): Promise<void> {
  // A provider answers later, not in the same tick.
  await new Promise((resolve) => setImmediate(resolve));
  if (method === 'decline') throw createError(402, 'Payment declined');
}

/**
 * The idempotency key stored on line `index` of an order: the request's own
 * key on the first line, a digest of it and the line on the others, so that
 * every row keeps a unique key of at most 255 characters.
 */
function lineKey(idempotencyKey: string, index: number): string {
  if (index === 0) return idempotencyKey;
  return `line:${createHash('sha256').update(idempotencyKey).update('\n').update(String(index)).digest('hex')}`;
}

/**
 * The rows an earlier attempt of this customer with this Idempotency-Key
 * placed, line by line, or null. Redis's record of the key answers retries
 * first; this is the database's own guard for when Redis has lost it (a
 * flush, a failover). Another customer's rows are never read: their key is
 * theirs. A key used for other lines is a 422.
 */
async function earlierOrders(
  db: Database,
  lines: readonly { sku: string; qty: number }[],
  { customer, idempotencyKey }: { customer: string; idempotencyKey: string },
  transaction?: Transaction,
): Promise<OrderRow[] | null> {
  // Almost always there is none: one read of the first line's key says so.
  const first = await db.Order.findOne({ where: { customer, idempotencyKey }, attributes: ['id'], transaction });
  if (first === null) return null;
  const keys = Array.from({ length: MAX_CART_LINES }, (_, i) => lineKey(idempotencyKey, i));
  const rows = await db.Order.findAll({ where: { customer, idempotencyKey: keys }, transaction });
  rows.sort((a, b) => keys.indexOf(a.idempotencyKey as string) - keys.indexOf(b.idempotencyKey as string));
  const same = rows.length === lines.length && rows.every((row, i) => row.sku === lines[i]?.sku && row.qty === lines[i]?.qty);
  if (!same) throw createError(422, 'This Idempotency-Key was used for another order');
  return rows;
}

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
 * that, a 503 (try again). `work` must be safe to rerun: the payment
 * stand-in is, preparing a hold again is; a real provider's charge would
 * carry an idempotency key.
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

// ---- the give-back paths ---------------------------------------------------

/**
 * Gives back what a failed order held, before the error answer goes out (the
 * middleware would release as the answer ends; doing it first means a client
 * that reads the 402 or 409 already finds the units back in Redis). Each
 * reservation keeps the first word it is given, so releasing a line already
 * kept costs nothing. Answers what became of the order.
 */
async function giveBack(store: StockStore, holds: readonly Reservation[], error: unknown): Promise<OrderOutcome> {
  const refusal = isGuardRefusal(error) ? error : undefined;
  const refused = holds.find((hold) => hold.key === refusal?.sku);
  if (refusal && refused) await keepRefused(store, refused, refusal.dbStock);
  await Promise.all(holds.map((hold) => hold.release()));
  if (refused) return 'guard-refused';
  return createError.isHttpError(error) && error.status === 402 ? 'declined' : 'failed';
}

/**
 * The database refused units that Redis had reserved: the Redis figure
 * over-states (it was reloaded while other orders held units, or a write was
 * lost). Giving all the units back would keep it over-stated; keeping them
 * all could under-state when the database still has some. Keeping the hold
 * (committed) and giving back only what the database has left lowers the
 * excess and never goes below the truth, since the excess was at least
 * `qty - dbStock`.
 */
async function keepRefused(store: StockStore, hold: Reservation, dbStock: number): Promise<void> {
  await hold.commit();
  const giveBack = Math.min(dbStock, hold.qty);
  if (giveBack > 0) await store.addStock(hold.key, giveBack);
}
