/**
 * Two-phase commit of a hold: prepare (inside the order's database
 * transaction, just before it commits) stops expiry from giving the units
 * back; a prepared hold whose time comes before its commit turns in-doubt,
 * keeps its units, and is settled by resolveInDoubt asking the database.
 */
import { expect } from 'chai';
import express from 'express';
import request from 'supertest';
import { createStockStore, reserveStock, type Reservation, type StockStore } from '../lib';
import { EventLog } from './helpers/events';
import { held, sleepPast } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';

const shared = useSharedRedis('holds-prep');

function make(): { store: StockStore; log: EventLog } {
  const log = new EventLog();
  return { store: createStockStore({ redis: shared.redis, prefix: shared.prefix(), onEvent: log.onEvent }), log };
}

describe('holds: prepare, in doubt, resolveInDoubt', function () {
  this.timeout(20_000);

  it('prepare: only a held hold is prepared; again, it changes nothing; then commit keeps the units', async () => {
    const { store, log } = make();
    await store.setStock('sku', 10);
    const h = held(await store.reserve('sku', 3));
    expect(await store.prepare(h.holdId)).to.deep.equal({ state: 'prepared', changed: true });
    expect(await store.prepare(h.holdId)).to.deep.equal({ state: 'prepared', changed: false });
    expect((await store.getHolds('sku')).holds).to.deep.equal([{ holdId: h.holdId, qty: 3, expiresAt: h.expiresAt, state: 'prepared' }]);
    expect(await store.commit(h.holdId)).to.deep.equal({ state: 'committed', changed: true });
    expect(await store.prepare(h.holdId)).to.deep.equal({ state: 'committed', changed: false });
    expect(await store.getStock('sku')).to.equal(7);
    // prepare is not a settlement: only the commit is reported.
    expect(log.events.map((e) => e.type)).to.deep.equal(['reserved', 'committed']);
  });

  it('a prepared hold can still be released (the transaction rolled back): the units come back once', async () => {
    const { store } = make();
    await store.setStock('sku', 10);
    const h = held(await store.reserve('sku', 4));
    await store.prepare(h.holdId);
    expect(await store.release(h.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.release(h.holdId)).to.deep.equal({ state: 'released', changed: false });
    expect(await store.getStock('sku')).to.equal(10);
  });

  it('an expired or released hold cannot be prepared: the order must not commit', async () => {
    const { store } = make();
    await store.setStock('sku', 10);
    const gone = held(await store.reserve('sku', 1, undefined, { holdSeconds: 1 }));
    const released = held(await store.reserve('sku', 1));
    await store.release(released.holdId);
    await sleepPast(gone.expiresAt);
    expect(await store.prepare(gone.holdId)).to.deep.equal({ state: 'expired', changed: false });
    expect(await store.prepare(released.holdId)).to.deep.equal({ state: 'released', changed: false });
    expect(await store.prepare(store.holdId('sku'))).to.deep.equal({ state: 'unknown', changed: false });
    expect(await store.getStock('sku')).to.equal(10);
  });

  it('a prepared hold past its time keeps its units and turns in-doubt; reconcile counts it and will not fix', async () => {
    const { store, log } = make();
    await store.setStock('sku', 10);
    const h = held(await store.reserve('sku', 3, undefined, { holdSeconds: 1 }));
    const plain = held(await store.reserve('sku', 2, undefined, { holdSeconds: 1 }));
    await store.prepare(h.holdId);
    await sleepPast(Math.max(h.expiresAt, plain.expiresAt));
    // The plain hold expired and gave its 2 back; the prepared one kept its 3.
    expect(await store.getStock('sku')).to.equal(7);
    expect(await store.getHolds('sku')).to.deep.equal({
      key: 'sku',
      count: 1,
      units: 3,
      inDoubt: 1,
      holds: [{ holdId: h.holdId, qty: 3, expiresAt: h.expiresAt, state: 'in-doubt' }],
    });
    expect(log.of('expired')).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);
    // In doubt, it cannot be extended or prepared again, and the figure stays.
    expect(await store.extend(h.holdId, 60)).to.deep.equal({ state: 'in-doubt', expiresAt: null });
    expect(await store.prepare(h.holdId)).to.deep.equal({ state: 'in-doubt', changed: false });
    // The order did commit (the database says 7): drift +3 until resolved, and no fix meanwhile.
    expect(await store.reconcile('sku', 7, { fix: true })).to.deep.include({ redis: 7, held: 3, inDoubt: 1, drift: 3, fixed: false });
    expect(await store.getStock('sku')).to.equal(7);
  });

  it('resolveInDoubt commits the holds whose order is in the database and releases the others, once', async () => {
    const { store, log } = make();
    await store.setStock('sku', 20);
    const holds = await Promise.all([1, 2, 3, 4].map((qty) => store.reserve('sku', qty, undefined, { holdSeconds: 1 }).then(held)));
    for (const h of holds) await store.prepare(h.holdId);
    const open = held(await store.reserve('sku', 5));
    await store.prepare(open.holdId); // prepared, still in time: not in doubt
    await sleepPast(Math.max(...holds.map((h) => h.expiresAt)));
    const inDatabase = new Set([holds[0]?.holdId, holds[2]?.holdId]);
    const asked: string[] = [];
    const resolution = await store.resolveInDoubt('sku', async (holdId) => {
      asked.push(holdId);
      return inDatabase.has(holdId);
    });
    expect(asked.sort()).to.deep.equal(holds.map((h) => h.holdId).sort());
    expect(resolution.key).to.equal('sku');
    expect(resolution.committed.sort()).to.deep.equal([holds[0]?.holdId, holds[2]?.holdId].sort());
    expect(resolution.released.sort()).to.deep.equal([holds[1]?.holdId, holds[3]?.holdId].sort());
    // 20 - (1+2+3+4) - 5, then the released 2 and 4 back.
    expect(await store.getStock('sku')).to.equal(11);
    expect(await store.getHolds('sku')).to.deep.include({ count: 1, units: 5, inDoubt: 0 });
    expect(await store.resolveInDoubt('sku', () => true)).to.deep.equal({ key: 'sku', committed: [], released: [] });
    expect(log.of('committed')).to.have.length(2);
    expect(log.of('released')).to.have.length(2);
    // Once resolved, reconcile is in step with the database (20 - 1 - 3 sold) and may fix again.
    expect(await store.reconcile('sku', 16)).to.deep.include({ redis: 11, held: 5, inDoubt: 0, drift: 0 });
  });

  it('a failing database check leaves that hold in doubt and rejects', async () => {
    const { store } = make();
    await store.setStock('sku', 5);
    const h = held(await store.reserve('sku', 2, undefined, { holdSeconds: 1 }));
    await store.prepare(h.holdId);
    await sleepPast(h.expiresAt);
    const down = new Error('database down');
    await store.resolveInDoubt('sku', () => Promise.reject(down)).then(
      () => expect.fail('resolved'),
      (error: unknown) => expect(error).to.equal(down),
    );
    expect(await store.getHolds('sku')).to.deep.include({ count: 1, units: 2, inDoubt: 1 });
    expect(await store.getStock('sku')).to.equal(3);
  });

  it('middleware: req.reservation.prepare() before the "database commit"; a lost hold is a 409 and the order does not commit', async () => {
    const { store } = make();
    await store.setStock('sku', 5);
    const committedOrders: string[] = [];
    const app = express();
    app.post(
      '/order',
      reserveStock({ store, key: () => 'sku', qty: () => 2, holdSeconds: 1 }),
      async (req, res) => {
        const reservation = req.reservation as Reservation;
        if (req.query.slow) await sleepPast(reservation.expiresAt);
        await reservation.prepare(); // rejects: the "transaction" rolls back
        committedOrders.push(reservation.holdId);
        res.status(201).json({ state: reservation.state });
      },
    );
    app.use((error: { status: number; code: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(error.status).json({ code: error.code });
    });
    const ok = await request(app).post('/order').expect(201);
    expect(ok.body).to.deep.equal({ state: 'prepared' });
    const late = await request(app).post('/order?slow=1').expect(409);
    expect(late.body).to.deep.equal({ code: 'ERR_RESERVE_STOCK_HOLD_LOST' });
    expect(committedOrders).to.have.length(1);
    // The first order's hold was committed at response end; the late one's expired: 5 - 2.
    expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0, inDoubt: 0 });
    expect(await store.getStock('sku')).to.equal(3);
  });
});
