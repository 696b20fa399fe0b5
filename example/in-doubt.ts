/**
 * In-doubt holds, settled against the orders table. A worker that dies
 * between its order's database COMMIT and the holds' commit (./checkout.ts,
 * step 2 to 3) leaves prepared holds, which turn in doubt when due instead of
 * giving their units back; the order rows, which name their holds, say which
 * of them were sold. The server sweeps every few seconds; the reconcile tool
 * settles them first too.
 */
import type { InDoubtResolution, StockStore } from '../lib';
import type { Database } from './db/database';

/**
 * Whether the order of a hold committed, as the database sees it. The read
 * locks the hold id's entry in its unique index, so an order still
 * committing (its row inserted, the transaction not yet done) is waited for
 * rather than missed: the answer is the transaction's outcome, never a guess.
 */
export async function orderCommitted(db: Database, holdId: string): Promise<boolean> {
  return db.sequelize.transaction(async (transaction) => {
    const order = await db.Order.findOne({ where: { holdId }, attributes: ['id'], transaction, lock: transaction.LOCK.SHARE });
    return order !== null;
  });
}

/**
 * Settles every product's in-doubt holds (a worker died between its order's
 * database commit and the hold's commit) against the orders table.
 */
export async function resolveInDoubtOrders(db: Database, store: StockStore): Promise<InDoubtResolution[]> {
  const products = await db.Product.findAll({ attributes: ['sku'], order: [['sku', 'ASC']] });
  const resolutions: InDoubtResolution[] = [];
  for (const { sku } of products) {
    resolutions.push(await store.resolveInDoubt(sku, (holdId) => orderCommitted(db, holdId)));
  }
  return resolutions;
}

export interface SweepOptions {
  intervalMs: number;
  /** Each product whose in-doubt holds a round settled. */
  onResolved(resolution: InDoubtResolution): void;
  /** A failed round; the next one tries again. */
  onError(error: unknown): void;
}

/**
 * Runs {@link resolveInDoubtOrders} every `intervalMs` (never two rounds at
 * once) until the returned function is called.
 */
export function sweepInDoubt(db: Database, store: StockStore, { intervalMs, onResolved, onError }: SweepOptions): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    resolveInDoubtOrders(db, store)
      .then((resolutions) => {
        for (const r of resolutions) if (r.committed.length + r.released.length > 0) onResolved(r);
      })
      .catch(onError)
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
