/**
 * The shop's two tables as Sequelize models, for queries. Their schema is
 * the migrations' (./migrations/): the models never create or alter a table.
 */
import {
  DataTypes,
  type CreationOptional,
  type InferAttributes,
  type InferCreationAttributes,
  type Model,
  type ModelStatic,
  type Sequelize,
} from 'sequelize';

export interface ProductRow extends Model<InferAttributes<ProductRow>, InferCreationAttributes<ProductRow>> {
  id: CreationOptional<number>;
  sku: string;
  name: string;
  /** Units for sale; UNLIMITED_STOCK (-1) for a download or a service. */
  stock: number;
  /** The most units one customer may buy (open and committed holds, see the library's limits); null: no limit. */
  perCustomerLimit: CreationOptional<number | null>;
}

export type OrderStatus = 'pending' | 'paid';

export interface OrderRow extends Model<InferAttributes<OrderRow>, InferCreationAttributes<OrderRow>> {
  id: CreationOptional<number>;
  sku: string;
  qty: number;
  status: OrderStatus;
  /** The request's Idempotency-Key: the database remembers it even when Redis has lost its record. */
  idempotencyKey: CreationOptional<string | null>;
  /**
   * The Redis hold the order's units were reserved under: the database's
   * answer, after a crash, to whether that hold's order committed.
   */
  holdId: CreationOptional<string | null>;
  /** Who ordered (example/customer.ts); null on rows from before customers were recorded. */
  customer: CreationOptional<string | null>;
  createdAt: CreationOptional<Date>;
}

export type ProductModel = ModelStatic<ProductRow>;
export type OrderModel = ModelStatic<OrderRow>;

// sequelize.define rather than Model classes: a class can be bound to one
// Sequelize instance only, and tests and the benchmark open several.
export function defineModels(sequelize: Sequelize): { Product: ProductModel; Order: OrderModel } {
  const Product = sequelize.define<ProductRow>(
    'Product',
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      sku: { type: DataTypes.STRING(64), allowNull: false },
      name: { type: DataTypes.STRING(200), allowNull: false },
      stock: { type: DataTypes.INTEGER, allowNull: false },
      perCustomerLimit: { type: DataTypes.INTEGER, allowNull: true },
    },
    { tableName: 'products', timestamps: false },
  );
  const Order = sequelize.define<OrderRow>(
    'Order',
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      sku: { type: DataTypes.STRING(64), allowNull: false },
      qty: { type: DataTypes.INTEGER, allowNull: false },
      status: { type: DataTypes.STRING(16), allowNull: false },
      idempotencyKey: { type: DataTypes.STRING(255), allowNull: true },
      holdId: { type: DataTypes.STRING(255), allowNull: true },
      customer: { type: DataTypes.STRING(64), allowNull: true },
      createdAt: { type: DataTypes.DATE, allowNull: false },
    },
    { tableName: 'orders', timestamps: true, updatedAt: false },
  );
  return { Product, Order };
}
