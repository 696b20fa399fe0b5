/**
 * What a refused request gets: by default the middleware answers it as
 * JSON itself (errorBody's shape, Retry-After on a 503); the `handler`
 * option decides otherwise, `next(err)` included. And the typed accessors of
 * req.reservation.
 */
import { expect } from 'chai';
import createError from 'http-errors';
import request from 'supertest';
import {
  cartReservation,
  createStockStore,
  errorBody,
  itemReservation,
  reserveStock,
  type ReserveStockOptions,
  type StockStore,
} from '../lib';
import { express } from './helpers/app';
import { useSharedRedis } from './helpers/redis';

const shared = useSharedRedis('refusal');

/** The errors that reached the app's own Express error handler. */
interface Shop {
  app: express.Express;
  store: StockStore;
  seen: unknown[];
}

/** POST /order { sku, qty } behind reserveStock (stock: 2 of 'a'), with an app error handler that records what reaches it. */
async function shop(options: Partial<ReserveStockOptions> = {}, store?: StockStore): Promise<Shop> {
  const made = store ?? createStockStore({ redis: shared.redis, prefix: shared.prefix() });
  if (!store) await made.setStock('a', 2);
  const seen: unknown[] = [];
  const app = express();
  app.use(express.json());
  app.post('/order', reserveStock({ store: made, key: (req) => req.body.sku, qty: (req) => req.body.qty, ...options }), (_req, res) => {
    res.status(201).json({ ok: true });
  });
  app.post('/cart', reserveStock({ store: made, items: (req) => req.body.items, ...options }), (_req, res) => {
    res.status(201).json({ ok: true });
  });
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    seen.push(error);
    res.status(599).json({ appHandler: true });
  });
  return { app, store: made, seen };
}

describe('refused requests: JSON by default, or what `handler` says', function () {
  this.timeout(20_000);

  describe('the default: the middleware answers as JSON itself', () => {
    it('sold out: 409 { error: { status, code, message, key, requested, available } }; the app handler never sees it', async () => {
      const { app, seen } = await shop();
      const res = await request(app).post('/order').send({ sku: 'a', qty: 3 }).expect(409).expect('content-type', /application\/json/);
      expect(res.body).to.deep.equal({
        error: { status: 409, code: 'ERR_RESERVE_STOCK_SOLD_OUT', message: 'Not enough stock for "a"', key: 'a', requested: 3, available: 2 },
      });
      expect(res.headers['retry-after']).to.equal(undefined);
      expect(seen).to.deep.equal([]);
    });

    it("a cart's 409 lists its short lines", async () => {
      const { app, store } = await shop();
      await store.setStock('b', 1);
      const res = await request(app)
        .post('/cart')
        .send({ items: [{ key: 'a', qty: 5 }, { key: 'b', qty: 1 }] })
        .expect(409);
      expect(res.body).to.deep.equal({
        error: {
          status: 409,
          code: 'ERR_RESERVE_STOCK_SOLD_OUT',
          message: 'Not enough stock for "a" (2 of 5)',
          lines: [{ key: 'a', requested: 5, available: 2 }],
        },
      });
    });

    it('a bad quantity: 400 with its code; a loader\'s own http-error passes as it is', async () => {
      const { app } = await shop({ loader: (sku) => Promise.reject(createError(404, `No product ${sku}`)) });
      const bad = await request(app).post('/order').send({ sku: 'a', qty: 0 }).expect(400);
      expect(bad.body.error).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
      const unknown = await request(app).post('/order').send({ sku: 'nope', qty: 1 }).expect(404);
      expect(unknown.body).to.deep.equal({ error: { status: 404, message: 'No product nope' } });
    });

    it('503 (the loader failed): Retry-After, a code, and no internal message', async () => {
      const { app } = await shop({ loader: () => Promise.reject(new Error('ECONNREFUSED db:3306')) });
      const res = await request(app).post('/order').send({ sku: 'cold', qty: 1 }).expect(503);
      expect(res.headers['retry-after']).to.equal('1');
      expect(res.body).to.deep.equal({ error: { status: 503, code: 'ERR_RESERVE_STOCK_UNAVAILABLE', message: 'Service Unavailable' } });
    });

    it('503 (Redis not connected): Retry-After too', async () => {
      const redis = shared.client();
      await redis.ping();
      // ioredis 6 says so once the socket has closed, not at disconnect().
      const ended = new Promise((resolve) => redis.once('end', resolve));
      redis.disconnect();
      await ended;
      const { app } = await shop({}, createStockStore({ redis, prefix: shared.prefix() }));
      const res = await request(app).post('/order').send({ sku: 'a', qty: 1 }).expect(503);
      expect(res.headers['retry-after']).to.equal('1');
      expect(res.body.error).to.include({ status: 503, code: 'ERR_RESERVE_STOCK_NOT_CONNECTED' });
    });
  });

  describe('the handler option', () => {
    it('handler: (err, req, res, next) => next(err) hands the http-error to the app\'s error handler', async () => {
      const { app, seen } = await shop({ handler: (error, _req, _res, next) => next(error) });
      await request(app).post('/order').send({ sku: 'a', qty: 3 }).expect(599);
      expect(seen).to.have.length(1);
      expect(seen[0]).to.include({ status: 409, code: 'ERR_RESERVE_STOCK_SOLD_OUT', key: 'a', requested: 3, available: 2 });
    });

    it("with next(err), Express's own error handler sends a 503's Retry-After", async () => {
      const app = express();
      const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
      const loader = () => Promise.reject(new Error('db down'));
      app.post('/order', reserveStock({ store, key: 'a', loader, handler: (error, _req, _res, next) => next(error) }), (_req, res) => {
        res.status(201).end();
      });
      app.set('env', 'test'); // Express's default handler would log the error otherwise
      const res = await request(app).post('/order').expect(503);
      expect(res.headers['retry-after']).to.equal('1');
      expect(res.type).to.equal('text/html');
    });

    it('a handler of its own answers as it likes, with req and the error', async () => {
      const { app, seen } = await shop({
        handler: (error, req, res) => {
          res.status(error.status).type('text').send(`${req.body.sku}: ${error.message}`);
        },
      });
      const res = await request(app).post('/order').send({ sku: 'a', qty: 3 }).expect(409);
      expect(res.text).to.equal('a: Not enough stock for "a"');
      expect(seen).to.deep.equal([]);
    });

    it('a handler that throws, or rejects, reaches the app\'s error handler, not the process', async () => {
      const thrown = new Error('the handler broke');
      const throwing = await shop({
        handler: () => {
          throw thrown;
        },
      });
      await request(throwing.app).post('/order').send({ sku: 'a', qty: 3 }).expect(599);
      expect(throwing.seen).to.deep.equal([thrown]);
      const rejecting = await shop({ handler: () => Promise.reject(thrown) as unknown as void });
      await request(rejecting.app).post('/order').send({ sku: 'a', qty: 3 }).expect(599);
      expect(rejecting.seen).to.deep.equal([thrown]);
    });

    it('a fault that is no http-error (a bug) skips the handler and goes to next', async () => {
      const real = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
      const bug = new TypeError('a bug in the store');
      const broken: StockStore = Object.create(real, { reserve: { value: () => Promise.reject(bug) } });
      let handled = 0;
      const { app, seen } = await shop({ handler: () => void handled++ }, broken);
      await request(app).post('/order').send({ sku: 'a', qty: 1 }).expect(599);
      expect(seen).to.deep.equal([bug]);
      expect(handled).to.equal(0);
    });

    it('must be a function', () => {
      expect(() => reserveStock({ store: createStockStore({ redis: shared.redis }), key: 'a', handler: 'json' as never }))
        .to.throw()
        .with.property('code', 'ERR_RESERVE_STOCK_OPTION');
    });
  });
});

describe('errorBody: one shape for every error answer', () => {
  it('shows what http-errors exposes, hides 5xx messages and anything that is not an http-error', () => {
    expect(errorBody(createError(402, 'Payment declined'))).to.deep.equal({ error: { status: 402, message: 'Payment declined' } });
    expect(errorBody(createError(500, 'db password wrong', { code: 'E_DB' }))).to.deep.equal({
      error: { status: 500, code: 'E_DB', message: 'Internal Server Error' },
    });
    expect(errorBody(Object.assign(new Error('secret'), { code: 'ECONNREFUSED' }))).to.deep.equal({
      error: { status: 500, message: 'Internal Server Error' },
    });
    // Express 5's router: a plain URIError with a 400 status.
    expect(errorBody(Object.assign(new URIError('URI malformed'), { status: 400 }))).to.deep.equal({ error: { status: 400, message: 'Bad Request' } });
  });
});

describe('itemReservation and cartReservation: req.reservation, typed', function () {
  this.timeout(20_000);

  it('hand over the reservation of their kind, and fail for a route without one', async () => {
    const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
    await store.setStock('a', 5);
    const app = express();
    app.use(express.json());
    app.post('/item', reserveStock({ store, key: 'a', qty: 2 }), (req, res) => {
      const { key, qty, holdId } = itemReservation(req);
      res.status(201).json({ key, qty, held: holdId.length > 0 });
    });
    app.post('/cart', reserveStock({ store, items: () => [{ key: 'a', qty: 1 }] }), (req, res) => {
      res.status(201).json({ lines: cartReservation(req).lines.map((line) => line.key) });
    });
    app.post('/wrong', reserveStock({ store, key: 'a' }), (req, res) => {
      res.status(201).json(cartReservation(req).lines);
    });
    app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).json({ message: error.message });
    });
    expect((await request(app).post('/item').expect(201)).body).to.deep.equal({ key: 'a', qty: 2, held: true });
    expect((await request(app).post('/cart').expect(201)).body).to.deep.equal({ lines: ['a'] });
    const wrong = await request(app).post('/wrong').expect(500);
    expect(wrong.body.message).to.equal('reserve-stock: this route holds no cart reservation: reserveStock({ items }) must run before its handler');
    // The 500 gave the wrong route's unit back: 5 - 2 - 1 left.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await store.getStock('a')).to.equal(2);
  });
});
