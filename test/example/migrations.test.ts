/**
 * The example's schema migrations (umzug), each case on a scratch database
 * of its own on the real MariaDB, dropped afterwards: an older version's
 * tables are brought up to date with their rows kept, a current database is
 * left alone, and several processes starting at once migrate once.
 */
import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { QueryTypes, Sequelize, UniqueConstraintError } from 'sequelize';
import request from 'supertest';
import { createApp } from '../../example/app';
import { readConfig } from '../../example/config';
import { createDatabase, prepareDatabase, type Database } from '../../example/db/database';
import { migrate } from '../../example/db/migrations';
import { SEED_PRODUCTS } from '../../example/db/seed';
import { connectRedis, deleteWithPrefix, uniquePrefix } from '../helpers/redis';

const MIGRATIONS = [
  '001-products-and-orders',
  '002-orders-idempotency-key',
  '003-orders-hold-id',
  '004-binary-identifiers',
  '005-orders-customer',
  '006-orders-idempotency-key-per-customer',
  '007-products-per-customer-limit',
];

/** The tables as the first version's sync() made them: no idempotency key, no hold id. */
const FIRST_VERSION = [
  `CREATE TABLE products (
    id int(11) NOT NULL AUTO_INCREMENT, sku varchar(64) NOT NULL, name varchar(200) NOT NULL, stock int(11) NOT NULL,
    PRIMARY KEY (id), UNIQUE KEY sku (sku)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  `CREATE TABLE orders (
    id int(11) NOT NULL AUTO_INCREMENT, sku varchar(64) NOT NULL, qty int(11) NOT NULL, status varchar(16) NOT NULL,
    createdAt datetime NOT NULL, PRIMARY KEY (id), KEY orders_sku (sku)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
];

/** The tables as migration 005 left them: a customer on each order, the Idempotency-Key unique on its own. */
const VERSION_005 = [
  `CREATE TABLE products (
    id int(11) NOT NULL AUTO_INCREMENT, sku varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    name varchar(200) NOT NULL, stock int(11) NOT NULL, PRIMARY KEY (id), UNIQUE KEY sku (sku)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  `CREATE TABLE orders (
    id int(11) NOT NULL AUTO_INCREMENT, sku varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    qty int(11) NOT NULL, status varchar(16) NOT NULL, createdAt datetime NOT NULL,
    idempotencyKey varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
    holdId varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
    customer varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
    PRIMARY KEY (id), UNIQUE KEY orders_idempotency_key (idempotencyKey), UNIQUE KEY orders_hold_id (holdId),
    KEY orders_sku (sku), KEY orders_customer (customer)
  ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci`,
  'CREATE TABLE migrations (name varchar(255) NOT NULL, PRIMARY KEY (name)) ENGINE=InnoDB',
  `INSERT INTO migrations (name) VALUES ${MIGRATIONS.slice(0, 5).map((name) => `('${name}')`).join(', ')}`,
];

/** The unique index of an order's Idempotency-Key: per customer since migration 006. */
const UNIQUE_ORDER_INDEXES = ['orders_customer_idempotency_key', 'orders_hold_id'];

describe('example database: migrations', function () {
  this.timeout(60_000);
  const { databaseUrl } = readConfig();
  const run = randomBytes(4).toString('hex');
  const made: string[] = [];
  const opened: Database[] = [];
  let admin: Sequelize;

  before(() => {
    admin = new Sequelize(databaseUrl, { dialect: 'mysql', logging: false });
  });
  after(async () => {
    for (const db of opened) await db.sequelize.close();
    for (const name of made) await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await admin.close();
  });

  /** A fresh database of the test's own, its tables made by `statements`; `pools` pools on it. */
  async function scratch(label: string, statements: string[] = [], pools = 1): Promise<Database[]> {
    const name = `rs_migrate_${run}_${label}`;
    await admin.query(`CREATE DATABASE \`${name}\``);
    made.push(name);
    const url = new URL(databaseUrl);
    url.pathname = `/${name}`;
    const dbs = Array.from({ length: pools }, () => createDatabase(url.toString(), { pool: { max: 3 } }));
    opened.push(...dbs);
    for (const statement of statements) await (dbs[0] as Database).sequelize.query(statement);
    return dbs;
  }

  async function columns(db: Database, table: string): Promise<string[]> {
    return Object.keys(await db.sequelize.getQueryInterface().describeTable(table)).sort();
  }

  async function uniqueIndexes(db: Database, table: string): Promise<string[]> {
    const indexes = (await db.sequelize.getQueryInterface().showIndex(table)) as { name: string; unique: boolean }[];
    return indexes.filter((index) => index.unique && index.name !== 'PRIMARY').map((index) => index.name).sort();
  }

  /** The collation of each identifier column: [table.column, collation]. */
  async function collations(db: Database): Promise<[string, string][]> {
    const rows = await db.sequelize.query<{ t: string; c: string; collation: string }>(
      `SELECT TABLE_NAME AS t, COLUMN_NAME AS c, COLLATION_NAME AS collation FROM information_schema.COLUMNS
       WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME IN ('sku', 'idempotencyKey', 'holdId', 'customer') ORDER BY TABLE_NAME, COLUMN_NAME`,
      { type: QueryTypes.SELECT },
    );
    return rows.map((row) => [`${row.t}.${row.c}`, row.collation]);
  }

  const BINARY = [
    ['orders.customer', 'utf8mb4_bin'],
    ['orders.holdId', 'utf8mb4_bin'],
    ['orders.idempotencyKey', 'utf8mb4_bin'],
    ['orders.sku', 'utf8mb4_bin'],
    ['products.sku', 'utf8mb4_bin'],
  ];

  async function ran(db: Database): Promise<string[]> {
    const rows = await db.sequelize.query<{ name: string }>('SELECT name FROM migrations ORDER BY name', { type: QueryTypes.SELECT });
    return rows.map((row) => row.name);
  }

  it("the first version's tables: brought up to date, their rows kept, and the shop orders on them", async () => {
    const [db] = (await scratch('first', FIRST_VERSION)) as [Database];
    await db.sequelize.query("INSERT INTO products (sku, name, stock) VALUES ('old-mug', 'Old mug', 5)");
    await db.sequelize.query("INSERT INTO orders (sku, qty, status, createdAt) VALUES ('old-mug', 1, 'paid', NOW())");
    await prepareDatabase(db);
    expect(await columns(db, 'orders')).to.deep.equal(['createdAt', 'customer', 'holdId', 'id', 'idempotencyKey', 'qty', 'sku', 'status']);
    expect(await uniqueIndexes(db, 'orders')).to.deep.equal(UNIQUE_ORDER_INDEXES);
    expect(await ran(db)).to.deep.equal(MIGRATIONS);
    expect(await collations(db)).to.deep.equal(BINARY);
    // The old rows are there, and the shop was not seeded over them.
    expect((await db.Product.findAll()).map((p) => [p.sku, p.stock])).to.deep.equal([['old-mug', 5]]);
    expect((await db.Order.findAll()).map((o) => [o.sku, o.qty, o.idempotencyKey, o.holdId, o.customer])).to.deep.equal([['old-mug', 1, null, null, null]]);

    const redis = connectRedis();
    const prefix = uniquePrefix('migrated');
    try {
      const { app } = createApp({ db, redis, prefix });
      const res = await request(app).post('/orders').set('Idempotency-Key', `k-${run}`).send({ sku: 'old-mug', qty: 2 }).expect(201);
      const row = await db.Order.findByPk(res.body.id as number);
      expect(row?.holdId).to.be.a('string');
      expect(row?.idempotencyKey).to.equal(`k-${run}`);
      expect((await db.Product.findOne({ where: { sku: 'old-mug' } }))?.stock).to.equal(3);
    } finally {
      await deleteWithPrefix(redis, prefix);
      await redis.quit();
    }
  });

  it('the version just before the hold id (the idempotency key already patched in): only the hold id is added', async () => {
    const [db] = (await scratch('patched', [
      ...FIRST_VERSION,
      'ALTER TABLE orders ADD COLUMN idempotencyKey varchar(255) DEFAULT NULL, ADD UNIQUE KEY orders_idempotency_key (idempotencyKey)',
    ])) as [Database];
    await db.sequelize.query("INSERT INTO orders (sku, qty, status, createdAt, idempotencyKey) VALUES ('x', 1, 'paid', NOW(), 'kept')");
    expect(await migrate(db.sequelize)).to.deep.equal(MIGRATIONS);
    expect(await uniqueIndexes(db, 'orders')).to.deep.equal(UNIQUE_ORDER_INDEXES);
    expect((await db.Order.findAll()).map((o) => o.idempotencyKey)).to.deep.equal(['kept']);
  });

  it("migration 005's tables with orders in them: the key becomes unique per customer, the rows kept; two customers may share a key, and each retry finds its own customer's order", async () => {
    const [db] = (await scratch('v005', VERSION_005)) as [Database];
    await db.sequelize.query("INSERT INTO products (sku, name, stock) VALUES ('mug', 'Mug', 10)");
    await db.sequelize.query(
      `INSERT INTO orders (sku, qty, status, createdAt, idempotencyKey, holdId, customer) VALUES
       ('mug', 2, 'paid', NOW(), 'shared-${run}', 'hold-a', 'alice'), ('mug', 1, 'paid', NOW(), 'legacy-${run}', 'hold-l', NULL)`,
    );
    const rowsBefore = async () => (await db.Order.findAll({ order: [['id', 'ASC']] })).map((o) => [o.id, o.customer, o.idempotencyKey, o.holdId]);
    const before = await rowsBefore();
    expect(await migrate(db.sequelize)).to.deep.equal(['006-orders-idempotency-key-per-customer', '007-products-per-customer-limit']);
    expect(await ran(db)).to.deep.equal(MIGRATIONS);
    expect(await uniqueIndexes(db, 'orders')).to.deep.equal(UNIQUE_ORDER_INDEXES);
    const indexes = (await db.sequelize.getQueryInterface().showIndex('orders')) as { name: string; fields: { attribute: string }[] }[];
    const byName = new Map(indexes.map((index) => [index.name, index.fields.map((f) => f.attribute)]));
    expect(byName.get('orders_customer_idempotency_key')).to.deep.equal(['customer', 'idempotencyKey']);
    expect([...byName.keys()].sort()).to.deep.equal(['PRIMARY', 'orders_customer_idempotency_key', 'orders_hold_id', 'orders_sku']);
    expect(await rowsBefore()).to.deep.equal(before);
    // The index itself: one row per customer and key.
    const insert = (customer: string, holdId: string) =>
      db.sequelize.query(
        `INSERT INTO orders (sku, qty, status, createdAt, idempotencyKey, holdId, customer) VALUES ('mug', 1, 'paid', NOW(), 'shared-${run}', ?, ?)`,
        { replacements: [holdId, customer] },
      );
    const duplicate = await insert('alice', 'hold-dup').then(
      () => null,
      (error: unknown) => error,
    );
    expect(duplicate).to.be.instanceOf(UniqueConstraintError);

    const redis = connectRedis();
    const prefix = uniquePrefix('migrated');
    try {
      const { app, adminToken } = createApp({ db, redis, prefix });
      const post = (customer: string, qty: number) =>
        request(app)
          .post('/orders')
          .set('Authorization', `Bearer ${adminToken}`)
          .set('X-Customer-Id', customer)
          .set('Idempotency-Key', `shared-${run}`)
          .send({ sku: 'mug', qty });
      // Bob's key is his own: a new order, not Alice's.
      const bob = await post('bob', 1).expect(201);
      expect(bob.body.id).to.not.equal(before[0]?.[0]);
      expect((await db.Order.findByPk(bob.body.id as number))?.customer).to.equal('bob');
      // Alice's retry (Redis has no record of it): her own order, from the database; nothing taken again.
      const alice = await post('alice', 2).expect(201);
      expect(alice.body).to.deep.equal({ id: before[0]?.[0], sku: 'mug', qty: 2, status: 'paid' });
      expect((await db.Product.findOne({ where: { sku: 'mug' } }))?.stock).to.equal(9);
      expect(await db.Order.count()).to.equal(3);
    } finally {
      await deleteWithPrefix(redis, prefix);
      await redis.quit();
    }
  });

  it('an empty database: the tables made and the shop seeded; a second run has nothing left to do', async () => {
    const [db] = (await scratch('empty')) as [Database];
    await prepareDatabase(db);
    expect(await columns(db, 'products')).to.deep.equal(['id', 'name', 'perCustomerLimit', 'sku', 'stock']);
    expect(await collations(db)).to.deep.equal(BINARY);
    expect(await uniqueIndexes(db, 'products')).to.deep.equal(['sku']);
    expect((await db.Product.findAll({ order: [['id', 'ASC']] })).map((p) => p.sku)).to.deep.equal(SEED_PRODUCTS.map((p) => p.sku));
    expect(await migrate(db.sequelize)).to.deep.equal([]);
    await prepareDatabase(db);
    expect(await db.Product.count()).to.equal(SEED_PRODUCTS.length);
  });

  it('three processes starting at once: each migration runs once, and all three start', async () => {
    const dbs = await scratch('race', [], 3);
    const names = await Promise.all(dbs.map((db) => migrate(db.sequelize)));
    expect(names.flat().sort()).to.deep.equal(MIGRATIONS);
    expect(await ran(dbs[0] as Database)).to.deep.equal(MIGRATIONS);
    await Promise.all(dbs.map((db) => prepareDatabase(db)));
    expect(await dbs[0]?.Product.count()).to.equal(SEED_PRODUCTS.length);
  });
});
