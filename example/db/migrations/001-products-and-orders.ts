/**
 * The first schema: products (a unique sku and its stock, -1 unlimited) and
 * their orders. Tables that are there already (made by an older version's
 * `sync()`) are kept as they are.
 */
import { DataTypes, type QueryInterface } from 'sequelize';
import { hasIndex } from './schema';

export async function up({ context: queries }: { context: QueryInterface }): Promise<void> {
  // createTable is CREATE TABLE IF NOT EXISTS.
  await queries.createTable('products', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    sku: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    name: { type: DataTypes.STRING(200), allowNull: false },
    stock: { type: DataTypes.INTEGER, allowNull: false },
  });
  await queries.createTable('orders', {
    id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
    sku: { type: DataTypes.STRING(64), allowNull: false },
    qty: { type: DataTypes.INTEGER, allowNull: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    createdAt: { type: DataTypes.DATE, allowNull: false },
  });
  if (!(await hasIndex(queries, 'orders', 'orders_sku'))) await queries.addIndex('orders', ['sku'], { name: 'orders_sku' });
}
