import { Sequelize } from 'sequelize';
import { migrate } from './migrations';
import { defineModels, type OrderModel, type ProductModel } from './models';
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
 * Brings the schema up to date (the migrations that have not run yet; a
 * table an older version made is migrated, never dropped) and seeds an empty
 * shop. Needs two connections of the pool (one holds the migrations' lock).
 */
export async function prepareDatabase(db: Database): Promise<void> {
  await db.sequelize.authenticate();
  await migrate(db.sequelize);
  await seedProducts(db.Product);
}
