/**
 * The checkout's database transaction, for the contenders that do without
 * the gate (mysql-row, mysql-buckets) or put DECRBY in front of the database
 * (decrby), and for the data-layer flash sale.
 *
 * The transaction is the example checkout's own (example/checkout.ts, step 2):
 * the conditional decrement (`UPDATE products SET stock = stock - ? WHERE
 * sku = ? AND stock >= ?`, the example's `takeStock`, which reads the locked
 * row to say why when no row changed), the order insert, the payment stand-in
 * and the order marked paid, all or nothing. It runs on the example's
 * `products` and `orders` tables with skus unique to the run; mysql-buckets
 * keeps its 10 rows per sku in a table of its own, `bench_stock_buckets`.
 */
import { DataTypes, Op, QueryTypes, type Model, type ModelStatic, type Sequelize, type Transaction } from 'sequelize';
import { chargePayment, takeStock } from '../../example/checkout';
import { createDatabase, prepareDatabase, type Database } from '../../example/db/database';
import type { SaleOutcome } from './order-route';
import type { Item } from './types';

/** Rows per sku in the mysql-buckets design. */
export const BUCKETS = 10;

interface BucketRow extends Model {
  sku: string;
  bucket: number;
  stock: number;
}

const isSoldOut = (error: unknown): boolean => (error as { status?: number }).status === 409;

export class BenchDb {
  readonly db: Database;
  readonly Bucket: ModelStatic<BucketRow>;
  /** Transactions begun, committed or not: the server's own counter. */
  transactions = 0;

  constructor(url: string, poolMax: number, existing?: Database) {
    this.db = existing ?? createDatabase(url, { pool: { max: poolMax } });
    this.Bucket = this.db.sequelize.define<BucketRow>(
      'BenchBucket',
      {
        sku: { type: DataTypes.STRING(64), primaryKey: true },
        bucket: { type: DataTypes.INTEGER, primaryKey: true },
        stock: { type: DataTypes.INTEGER, allowNull: false },
      },
      { tableName: 'bench_stock_buckets', timestamps: false },
    );
  }

  async open(): Promise<void> {
    await prepareDatabase(this.db);
    await this.Bucket.sync();
  }

  close(): Promise<void> {
    return this.db.sequelize.close();
  }

  busy(): number {
    return poolBusy(this.db.sequelize);
  }

  /** One product row per item. */
  async createProducts(items: Item[]): Promise<void> {
    for (let i = 0; i < items.length; i += 500) {
      const rows = items.slice(i, i + 500).map(({ sku, stock }) => ({ sku, name: `bench ${sku}`, stock }));
      await this.db.Product.bulkCreate(rows);
    }
  }

  /** BUCKETS rows per item, the stock split as evenly as it goes. */
  async createBuckets(items: Item[]): Promise<void> {
    const rows: { sku: string; bucket: number; stock: number }[] = [];
    for (const { sku, stock } of items) {
      for (let b = 0; b < BUCKETS; b++) {
        rows.push({ sku, bucket: b, stock: Math.floor(stock / BUCKETS) + (b < stock % BUCKETS ? 1 : 0) });
      }
    }
    for (let i = 0; i < rows.length; i += 1000) await this.Bucket.bulkCreate(rows.slice(i, i + 1000));
  }

  /** The example checkout's transaction around `decrement`: order insert, payment, order paid. */
  private checkout(
    sku: string,
    qty: number,
    payment: string,
    decrement: (transaction: Transaction) => Promise<void>,
  ): Promise<SaleOutcome> {
    this.transactions++;
    return this.db.sequelize
      .transaction(async (transaction) => {
        await decrement(transaction);
        const order = await this.db.Order.create({ sku, qty, status: 'pending' }, { transaction });
        await chargePayment(payment);
        await order.update({ status: 'paid' }, { transaction });
        return 'sold' as const;
      })
      .catch((error: unknown) => {
        if (isSoldOut(error)) return 'sold-out' as const;
        throw error;
      });
  }

  /** mysql-row (and decrby, and checkout's data-layer twin): the one product row. */
  sellFromRow(sku: string, qty: number, payment: string): Promise<SaleOutcome> {
    return this.checkout(sku, qty, payment, (transaction) => takeStock(this.db, sku, qty, transaction));
  }

  /**
   * mysql-buckets: read which of the sku's rows have enough stock (a plain
   * snapshot read, no locks), then try a random one of them and fall back to
   * the others, each try a checkout transaction of its own, so that no
   * transaction holds two row locks (and none deadlocks).
   */
  async sellFromBuckets(sku: string, qty: number, payment: string): Promise<SaleOutcome> {
    this.transactions++; // the autocommit read is a transaction too
    const candidates = (
      await this.Bucket.findAll({ attributes: ['bucket'], where: { sku, stock: { [Op.gte]: qty } }, raw: true })
    ).map((row) => row.bucket);
    if (candidates.length === 0) return 'sold-out';
    const first = Math.floor(Math.random() * candidates.length);
    for (const bucket of [...candidates.slice(first), ...candidates.slice(0, first)]) {
      const outcome = await this.checkout(sku, qty, payment, async (transaction) => {
        const changed = await this.db.sequelize.query(
          'UPDATE bench_stock_buckets SET stock = stock - ? WHERE sku = ? AND bucket = ? AND stock >= ?',
          { replacements: [qty, sku, bucket, qty], type: QueryTypes.BULKUPDATE, transaction },
        );
        if (changed !== 1) throw Object.assign(new Error('bucket sold out'), { status: 409 });
      });
      if (outcome === 'sold') return outcome;
    }
    return 'sold-out';
  }

  /**
   * Units sold per sku according to the paid orders, and oversold: units
   * beyond the item's stock, or a stock figure below zero.
   */
  async audit(items: Item[], stockTable: 'products' | 'buckets'): Promise<{ sold: number; oversold: number; notes: string[] }> {
    const { sequelize, Order, Product } = this.db;
    const skus = items.map((i) => i.sku);
    const soldBySku = new Map<string, number>();
    const left = new Map<string, number>();
    const negative = new Map<string, number>();
    for (let i = 0; i < skus.length; i += 500) {
      const where = { sku: skus.slice(i, i + 500) };
      const orders = (await Order.findAll({
        attributes: ['sku', [sequelize.fn('SUM', sequelize.col('qty')), 'units']],
        where: { ...where, status: 'paid' },
        group: ['sku'],
        raw: true,
      })) as unknown as { sku: string; units: string | number }[];
      for (const row of orders) soldBySku.set(row.sku, Number(row.units));
      const rows =
        stockTable === 'products'
          ? await Product.findAll({ attributes: ['sku', 'stock'], where, raw: true })
          : await this.Bucket.findAll({ attributes: ['sku', 'stock'], where, raw: true });
      for (const row of rows) {
        left.set(row.sku, (left.get(row.sku) ?? 0) + row.stock);
        if (row.stock < 0) negative.set(row.sku, (negative.get(row.sku) ?? 0) - row.stock);
      }
    }
    return auditFigures(items, soldBySku, left, negative);
  }

  async cleanup(items: Item[]): Promise<void> {
    const skus = items.map((i) => i.sku);
    for (let i = 0; i < skus.length; i += 500) {
      const where = { sku: skus.slice(i, i + 500) };
      await this.db.Order.destroy({ where });
      await this.db.Product.destroy({ where });
      await this.Bucket.destroy({ where });
    }
  }
}

/** Connections of `sequelize`'s pool in use, plus callers waiting for one. */
export function poolBusy(sequelize: Sequelize): number {
  const pool = (sequelize.connectionManager as unknown as { pool?: { using?: number; waiting?: number } }).pool;
  return (pool?.using ?? 0) + (pool?.waiting ?? 0);
}

/** Oversold and consistency notes from units sold and stock left, per sku. */
export function auditFigures(
  items: Item[],
  soldBySku: Map<string, number>,
  left: Map<string, number>,
  negative: Map<string, number> = new Map(),
): { sold: number; oversold: number; notes: string[] } {
  let sold = 0;
  let oversold = 0;
  let mismatches = 0;
  for (const { sku, stock } of items) {
    const units = soldBySku.get(sku) ?? 0;
    sold += units;
    oversold += Math.max(0, units - stock, negative.get(sku) ?? 0);
    const remaining = left.get(sku);
    if (remaining !== undefined && remaining !== stock - units) mismatches++;
  }
  const notes = mismatches > 0 ? [`${mismatches} sku(s) whose stock left != stock - units sold`] : [];
  return { sold, oversold, notes };
}
