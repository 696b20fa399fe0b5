import { DataTypes, Sequelize } from 'sequelize';
import { defineModels, IDEMPOTENCY_INDEX, type OrderModel, type ProductModel } from './models';
import { seedProducts } from './seed';

export interface Database {
  sequelize: Sequelize;
  Product: ProductModel;
  Order: OrderModel;
}

export interface DatabaseOptions {
  pool?: { max: number };
}

/** Opens a pool on `url` (mysql://user:pass@host:port/db) and defines the models. No query is sent yet. */
export function createDatabase(url: string, options: DatabaseOptions = {}): Database {
  const sequelize = new Sequelize(url, {
    dialect: 'mysql',
    logging: false,
    pool: { max: options.pool?.max ?? 10, min: 0, idle: 10_000, acquire: 30_000 },
  });
  return { sequelize, ...defineModels(sequelize) };
}

/**
 * Adds the orders' idempotency column to a table made before it existed.
 * Several processes may start at once: one adds it, the others find it.
 */
async function addIdempotencyColumn(db: Database): Promise<void> {
  const queries = db.sequelize.getQueryInterface();
  if ('idempotencyKey' in (await queries.describeTable('orders'))) return;
  try {
    await queries.addColumn('orders', 'idempotencyKey', { type: DataTypes.STRING(255), allowNull: true });
    await queries.addIndex('orders', ['idempotencyKey'], { unique: true, name: IDEMPOTENCY_INDEX });
  } catch (error) {
    const columns = await queries.describeTable('orders');
    const indexes = (await queries.showIndex('orders')) as { name: string }[];
    if (!('idempotencyKey' in columns) || !indexes.some((index) => index.name === IDEMPOTENCY_INDEX)) throw error;
  }
}

/** Creates the tables that are missing (never drops) and seeds an empty shop. */
export async function prepareDatabase(db: Database): Promise<void> {
  await db.sequelize.authenticate();
  await db.Product.sync();
  await db.Order.sync();
  await addIdempotencyColumn(db);
  await seedProducts(db.Product);
}
