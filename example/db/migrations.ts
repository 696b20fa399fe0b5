/**
 * The schema's history, run by umzug (Sequelize's migration tool) on every
 * start: each migration runs once per database, in order, and umzug records
 * it in the `migrations` table. A migration is a file in ./migrations/ and a
 * line in MIGRATIONS below. They only go forward: a shipped migration is
 * never edited or undone by code; a change is a new migration.
 *
 * Databases made before migrations existed (by `sync()` and a hand-written
 * column patch) are taken over as they are: every migration checks what is
 * there before it adds it, so an older table is brought up to date and a
 * current one is left alone.
 */
import { QueryTypes, type QueryInterface, type Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug, type RunnableMigration } from 'umzug';
import * as productsAndOrders from './migrations/001-products-and-orders';
import * as ordersIdempotencyKey from './migrations/002-orders-idempotency-key';
import * as ordersHoldId from './migrations/003-orders-hold-id';
import * as binaryIdentifiers from './migrations/004-binary-identifiers';
import * as ordersCustomer from './migrations/005-orders-customer';
import * as idempotencyKeyPerCustomer from './migrations/006-orders-idempotency-key-per-customer';
import * as productsPerCustomerLimit from './migrations/007-products-per-customer-limit';

/** The migrations, oldest first: the name is umzug's record of each. */
const MIGRATIONS: RunnableMigration<QueryInterface>[] = [
  { name: '001-products-and-orders', ...productsAndOrders },
  { name: '002-orders-idempotency-key', ...ordersIdempotencyKey },
  { name: '003-orders-hold-id', ...ordersHoldId },
  { name: '004-binary-identifiers', ...binaryIdentifiers },
  { name: '005-orders-customer', ...ordersCustomer },
  { name: '006-orders-idempotency-key-per-customer', ...idempotencyKeyPerCustomer },
  { name: '007-products-per-customer-limit', ...productsPerCustomerLimit },
];

/** The MariaDB/MySQL named lock that lets one process migrate at a time. */
const LOCK = 'reserve_stock_example_migrations';
const LOCK_WAIT_SECONDS = 60;

/**
 * Runs the migrations this database has not run; returns their names. Several
 * processes may start at once (the chaos suite's workers, a fleet behind a
 * load balancer): a named lock, held by a connection of its own, makes the
 * others wait and then find nothing left to do.
 */
export async function migrate(sequelize: Sequelize): Promise<string[]> {
  const umzug = new Umzug({
    migrations: MIGRATIONS,
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize, tableName: 'migrations' }),
    logger: undefined,
  });
  // The lock belongs to the session: a transaction keeps one connection for it.
  // It reads no table, so it holds no lock the migrations' DDL could wait for.
  return sequelize.transaction(async (transaction) => {
    const [row] = await sequelize.query<{ got: number | null }>('SELECT GET_LOCK(?, ?) AS got', {
      replacements: [LOCK, LOCK_WAIT_SECONDS],
      type: QueryTypes.SELECT,
      transaction,
    });
    if (row?.got !== 1) throw new Error(`Another process held the migrations' lock for over ${LOCK_WAIT_SECONDS} s`);
    try {
      return (await umzug.up()).map((migration) => migration.name);
    } finally {
      await sequelize.query('SELECT RELEASE_LOCK(?)', { replacements: [LOCK], transaction });
    }
  });
}
