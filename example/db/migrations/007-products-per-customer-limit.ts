/**
 * A product may cap the units one customer buys of it (a flash sale's "2
 * per customer"): `perCustomerLimit`, null for none. The loader hands it to
 * the library with the stock (example/checkout.ts), and the admin route that
 * changes it tells Redis at once (example/products.ts). It touches the
 * products table only, so it runs the same before or after any other
 * migration past 005.
 */
import { DataTypes, type QueryInterface } from 'sequelize';
import { hasColumn } from './schema';

export async function up({ context: queries }: { context: QueryInterface }): Promise<void> {
  if (!(await hasColumn(queries, 'products', 'perCustomerLimit'))) {
    await queries.addColumn('products', 'perCustomerLimit', { type: DataTypes.INTEGER, allowNull: true, defaultValue: null });
  }
}
