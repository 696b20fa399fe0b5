import { DataTypes, Sequelize } from 'sequelize';
import { defineModels, HOLD_INDEX, IDEMPOTENCY_INDEX, type OrderModel, type ProductModel } from './models';
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
 * Adds a uniquely indexed column of the orders to a table made before it
 * existed. Several processes may start at once: one adds it, the others
 * find it.
 */
async function addUniqueColumn(db: Database, column: string, index: string): Promise<void> {
  const queries = db.sequelize.getQueryInterface();
  if (column in (await queries.describeTable('orders'))) return;
  try {
    await queries.addColumn('orders', column, { type: DataTypes.STRING(255), allowNull: true });
    await queries.addIndex('orders', [column], { unique: true, name: index });
  } catch (error) {
    const columns = await queries.describeTable('orders');
    const indexes = (await queries.showIndex('orders')) as { name: string }[];
    if (!(column in columns) || !indexes.some((found) => found.name === index)) throw error;
  }
}

/** Creates the tables that are missing (never drops) and seeds an empty shop. */
export async function prepareDatabase(db: Database): Promise<void> {
  await db.sequelize.authenticate();
  await db.Product.sync();
  await db.Order.sync();
  await addUniqueColumn(db, 'idempotencyKey', IDEMPOTENCY_INDEX);
  await addUniqueColumn(db, 'holdId', HOLD_INDEX);
  await seedProducts(db.Product);
}
