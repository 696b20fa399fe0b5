/**
 * Idempotent retries over HTTP (the Idempotency-Key header by default): a
 * retry gets the first answer and deducts nothing; while the first request
 * runs a retry is a 409; the same key for another request is a 422; a 5xx
 * is not recorded, so the retry runs again; a bad key is a 400.
 */
import { expect } from 'chai';
import request from 'supertest';
import { createStockStore, reserveStock, type Reservation, type StockStore } from '../lib';
import { express, jsonErrors, listen } from './helpers/app';
import { expectHoldId } from './helpers/holds';
import { placed, post, useOrderApps, type Handler } from './helpers/order-app';
import { sleep, waitFor } from './helpers/wait';

const { shared, open: shop, onClose } = useOrderApps('idem');

/** Long enough for a settle or record that should not happen to have happened. */
const SETTLE_MS = 250;

/** A handler that waits for `open()` before answering 201. */
function gated(): { handler: Handler; open(): void; entered: Promise<void> } {
  let open!: () => void;
  let entered!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const enteredP = new Promise<void>((resolve) => (entered = resolve));
  return {
    handler: async (req, res, order) => {
      entered();
      await gate;
      placed(req, res, order);
    },
    open,
    entered: enteredP,
  };
}

describe('idempotent retries over HTTP', function () {
  this.timeout(30_000);

  it('a retry gets the same status and body, marked replayed, and nothing is deducted again', async () => {
    const s = await shop();
    const first = await post(s, 'order-1');
    expect(first.status).to.equal(201);
    expect(first.body).to.deep.equal({ order: 1, holdId: s.reservations[0]?.holdId, remaining: 8 });
    expectHoldId(first.body.holdId, 'a');
    expect(first.headers['idempotent-replayed']).to.equal(undefined);
    await waitFor(() => s.log.count('committed') === 1, 'the commit');

    for (let i = 0; i < 3; i++) {
      const retry = await post(s, 'order-1');
      expect(retry.status).to.equal(201);
      expect(retry.text).to.equal(first.text);
      expect(retry.headers['content-type']).to.equal(first.headers['content-type']);
      expect(retry.headers['idempotent-replayed']).to.equal('true');
    }
    await sleep(SETTLE_MS);
    expect(s.runs()).to.equal(1);
    expect(s.log.count('reserved')).to.equal(1);
    expect(s.log.count('committed')).to.equal(1);
    expect(await s.store.getStock('a')).to.equal(8);
    expect(await s.store.getHolds('a')).to.deep.include({ count: 0, units: 0 });
  });

  it('each request that runs takes a hold of its own (a random id); a replay takes none', async () => {
    const s = await shop();
    await post(s, 'order-2').expect(201);
    await post(s, 'order-3', { sku: 'b', qty: 1 }).expect(201);
    await post(s, 'order-2').expect(201);
    await post(s, 'order-3', { sku: 'b', qty: 1 }).expect(201);
    const [a, b] = s.reservations.map((r) => r.holdId);
    expect(s.reservations).to.have.length(2);
    expectHoldId(a, 'a');
    expectHoldId(b, 'b');
    // Not derived from the key: the claim on the key is what stops a second reservation.
    expect(a).to.not.equal(s.store.holdId('a', 'order-2'));
    await waitFor(() => s.log.count('committed') === 2, 'the commits');
    expect(s.log.of('reserved').map((e) => e.holdId)).to.deep.equal([a, b]);
  });

  it('different keys, or no key, are different requests', async () => {
    const s = await shop();
    await post(s, 'k1').expect(201);
    await post(s, 'k2').expect(201);
    await post(s, undefined).expect(201);
    await post(s, undefined).expect(201);
    expect(s.runs()).to.equal(4);
    expect(await s.store.getStock('a')).to.equal(2);
  });

  it('a retry while the first request still runs: 409, nothing deducted; once done, the retry gets its answer', async () => {
    const g = gated();
    const s = await shop(g.handler);
    const first = post(s, 'slow').then((r) => r);
    await g.entered;
    const during = await Promise.all([post(s, 'slow'), post(s, 'slow'), post(s, 'slow')]);
    for (const r of during) {
      expect(r.status).to.equal(409);
      expect(r.body.error).to.include({ status: 409, code: 'ERR_RESERVE_STOCK_IDEMPOTENCY_RUNNING' });
      expect(r.headers['idempotent-replayed']).to.equal(undefined);
    }
    expect(await s.store.getStock('a')).to.equal(8);
    g.open();
    const done = await first;
    expect(done.status).to.equal(201);
    const after = await post(s, 'slow');
    expect(after.status).to.equal(201);
    expect(after.text).to.equal(done.text);
    expect(after.headers['idempotent-replayed']).to.equal('true');
    expect(s.runs()).to.equal(1);
    expect(await s.store.getStock('a')).to.equal(8);
  });

  it('many concurrent requests with one key: exactly one runs, the others 409 or replay, one deduction', async () => {
    const g = gated();
    const s = await shop(g.handler);
    const all = Array.from({ length: 50 }, () => post(s, 'storm').then((r) => r));
    await g.entered;
    await sleep(100);
    g.open();
    const answers = await Promise.all(all);
    const ok = answers.filter((r) => r.status === 201);
    const running = answers.filter((r) => r.status === 409);
    expect(ok.length + running.length).to.equal(50);
    expect(ok.length).to.be.at.least(1);
    expect(new Set(ok.map((r) => r.text)).size).to.equal(1);
    expect(ok.filter((r) => r.headers['idempotent-replayed'] !== 'true')).to.have.length(1);
    for (const r of running) expect(r.body.error.code).to.equal('ERR_RESERVE_STOCK_IDEMPOTENCY_RUNNING');
    expect(s.runs()).to.equal(1);
    expect(await s.store.getStock('a')).to.equal(8);
  });

  for (const [label, body, path] of [
    ['another sku', { sku: 'b', qty: 2 }, '/orders'],
    ['another quantity', { sku: 'a', qty: 3 }, '/orders'],
    ['another route', { sku: 'a', qty: 2 }, '/gifts'],
  ] as const) {
    it(`the same key for ${label}: 422, nothing deducted, the first request still replayed`, async () => {
      const g = gated();
      const s = await shop(g.handler);
      // While the first runs, and after it is done.
      const first = post(s, 'reused').then((r) => r);
      await g.entered;
      const during = await post(s, 'reused', body, path);
      expect(during.status).to.equal(422);
      expect(during.body.error).to.include({ status: 422, code: 'ERR_RESERVE_STOCK_IDEMPOTENCY_MISMATCH' });
      g.open();
      expect((await first).status).to.equal(201);
      const after = await post(s, 'reused', body, path);
      expect(after.status).to.equal(422);
      expect(after.body.error.code).to.equal('ERR_RESERVE_STOCK_IDEMPOTENCY_MISMATCH');
      expect((await post(s, 'reused')).headers['idempotent-replayed']).to.equal('true');
      expect(s.runs()).to.equal(1);
      expect(await s.store.getStock('a')).to.equal(8);
      expect(await s.store.getStock('b')).to.equal(10);
    });
  }

  it('a 5xx answer is not replayed: the retry runs again, and its order deducts its units', async () => {
    const s = await shop(async (req, res, order) => {
      if (order === 1) res.status(500).json({ error: 'payment provider timed out' });
      else placed(req, res, order);
    });
    const first = await post(s, 'flaky');
    expect(first.status).to.equal(500);
    await waitFor(() => s.log.count('released') === 1, 'the first attempt to give its units back');
    expect(await s.store.getStock('a')).to.equal(10);
    await sleep(SETTLE_MS); // the claim is dropped after the answer

    const retry = await post(s, 'flaky');
    expect(retry.status).to.equal(201);
    expect(retry.headers['idempotent-replayed']).to.equal(undefined);
    expect(retry.body.order).to.equal(2);
    expect(s.runs()).to.equal(2);
    await sleep(SETTLE_MS);
    // The order the retry placed holds its 2 units: they are gone from the figure, once.
    expect(await s.store.getStock('a'), 'units left after one placed order of 2').to.equal(8);
    expect(s.reservations[1]?.state).to.equal('committed');
    expect(s.log.count('committed')).to.equal(1);
    expect(s.log.count('released')).to.equal(1);
    // The retry had a hold of its own: the first one stays released.
    const [failed, retried] = s.reservations.map((r) => r.holdId);
    expect(retried).to.not.equal(failed);
    expect(s.log.of('released').map((e) => e.holdId)).to.deep.equal([failed]);
    expect(s.log.of('committed').map((e) => e.holdId)).to.deep.equal([retried]);
    // And now the 201 is what a further retry gets.
    const again = await post(s, 'flaky');
    expect(again.headers['idempotent-replayed']).to.equal('true');
    expect(again.text).to.equal(retry.text);
  });

  it('a 4xx from the handler is replayed: the units went back once and stay back', async () => {
    const s = await shop((_req, res) => res.status(402).json({ error: 'card declined' }));
    const first = await post(s, 'declined');
    expect(first.status).to.equal(402);
    await waitFor(() => s.log.count('released') === 1, 'the give-back');
    const retry = await post(s, 'declined');
    expect(retry.status).to.equal(402);
    expect(retry.text).to.equal(first.text);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    await sleep(SETTLE_MS);
    expect(s.runs()).to.equal(1);
    expect(s.log.count('released')).to.equal(1);
    expect(await s.store.getStock('a')).to.equal(10);
  });

  it('a sold-out 409 is replayed as it was, even after a restock', async () => {
    const s = await shop(placed, {}, { a: 1 });
    const first = await post(s, 'too-many');
    expect(first.status).to.equal(409);
    expect(first.body.error).to.include({ code: 'ERR_RESERVE_STOCK_SOLD_OUT', key: 'a', requested: 2, available: 1 });
    await sleep(SETTLE_MS);
    await s.store.addStock('a', 5);
    const retry = await post(s, 'too-many');
    expect(retry.status).to.equal(409);
    expect(retry.text).to.equal(first.text);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(s.runs()).to.equal(0);
    expect(await s.store.getStock('a')).to.equal(6);
    // A new key is a new request, and buys.
    expect((await post(s, 'new-try')).status).to.equal(201);
    expect(await s.store.getStock('a')).to.equal(4);
  });

  it('replays any body as written: text, streamed in parts, or empty', async () => {
    const s = await shop(async (req, res, order) => {
      const kind = (req.body as { kind: string }).kind;
      if (kind === 'text') res.status(200).type('text/plain').send(`order ${order}`);
      else if (kind === 'stream') {
        res.writeHead(201, { 'content-type': 'application/x-ndjson' });
        res.write('{"part":1}\n');
        res.write(Buffer.from('{"part":2}\n'));
        res.end(`{"order":${order}}\n`);
      } else res.status(204).end();
    });
    for (const kind of ['text', 'stream', 'empty']) {
      const body = { sku: 'a', qty: 1, kind };
      const first = await post(s, `kind-${kind}`, body);
      const retry = await post(s, `kind-${kind}`, body);
      expect(retry.status, kind).to.equal(first.status);
      expect(retry.text, kind).to.equal(first.text);
      expect(retry.headers['content-type'], kind).to.equal(first.headers['content-type']);
      expect(retry.headers['idempotent-replayed'], kind).to.equal('true');
    }
    expect(s.runs()).to.equal(3);
    expect(await s.store.getStock('a')).to.equal(7);
  });

  const BAD_KEYS: [string, string][] = [
    ['empty', ''],
    ['with a space', 'order 1'],
    ['with a tab', 'order\t1'],
    ['256 characters', 'k'.repeat(256)],
    ['not ASCII', 'commande-é'],
  ];
  for (const [label, key] of BAD_KEYS) {
    it(`a bad Idempotency-Key (${label}) is a 400; nothing deducted, the handler not run`, async () => {
      const s = await shop();
      const res = await post(s, key);
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('ERR_RESERVE_STOCK_INPUT');
      expect(s.runs()).to.equal(0);
      expect(await s.store.getStock('a')).to.equal(10);
    });
  }

  it('a key of 255 visible ASCII characters is fine', async () => {
    const s = await shop();
    const key = Array.from({ length: 255 }, (_, i) => String.fromCharCode(0x21 + (i % 94))).join('');
    await post(s, key).expect(201);
    expect((await post(s, key)).headers['idempotent-replayed']).to.equal('true');
    expect(await s.store.getStock('a')).to.equal(8);
  });

  it('idempotencyKey: false ignores the header: every request buys', async () => {
    const s = await shop(placed, { idempotencyKey: false });
    await post(s, 'same').expect(201);
    const second = await post(s, 'same').expect(201);
    expect(second.headers['idempotent-replayed']).to.equal(undefined);
    // Even a key the header rules would refuse.
    await post(s, 'not valid').expect(201);
    expect(s.runs()).to.equal(3);
    expect(await s.store.getStock('a')).to.equal(4);
  });

  it('a custom idempotencyKey reads the key from the request', async () => {
    const s = await shop(placed, { idempotencyKey: (req) => (req.body as { requestId?: string }).requestId });
    const body = { sku: 'a', qty: 2, requestId: 'req-77' };
    const first = await post(s, undefined, body).expect(201);
    const retry = await post(s, 'header-ignored', body);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(retry.text).to.equal(first.text);
    expect(s.runs()).to.equal(1);
    expect(await s.store.getStock('a')).to.equal(8);
  });

  it('after idempotencySeconds the key is forgotten: a retry is a new order and deducts again', async () => {
    const s = await shop(placed, { idempotencySeconds: 1 });
    const first = await post(s, 'short-lived').expect(201);
    expect((await post(s, 'short-lived')).headers['idempotent-replayed']).to.equal('true');
    await waitFor(() => s.log.count('committed') === 1, 'the commit');
    await sleep(1200);
    const later = await post(s, 'short-lived');
    expect(later.status).to.equal(201);
    expect(later.headers['idempotent-replayed']).to.equal(undefined);
    expect(later.body.order).to.equal(2);
    expect(later.text).to.not.equal(first.text);
    await sleep(SETTLE_MS);
    // Two orders of 2 placed: 4 units gone.
    expect(await s.store.getStock('a'), 'units left after two placed orders of 2').to.equal(6);
    expect(s.reservations[1]?.state).to.equal('committed');
    expect(s.log.count('committed')).to.equal(2);
  });

  it('a retry sent the moment the answer arrives, through another process, is a replay: the record is saved before the answer goes out', async () => {
    const prefix = shared.prefix();
    const real = createStockStore({ redis: shared.redis, prefix });
    await real.setStock('a', 100);
    // The first process's record takes 200 ms to save (a slow Redis moment).
    const requests = Object.create(real.requests) as StockStore['requests'];
    requests.complete = (...args) => sleep(200).then(() => real.requests.complete(...args));
    const slowRecords = Object.create(real) as StockStore;
    Object.defineProperty(slowRecords, 'requests', { value: requests });
    const urls: string[] = [];
    for (const store of [slowRecords, createStockStore({ redis: shared.client(), prefix })]) {
      const app = express();
      app.use(express.json());
      app.post('/orders', reserveStock({ store, key: (req) => req.body.sku, qty: (req) => req.body.qty }), (req, res) => {
        res.status(201).json({ holdId: (req.reservation as Reservation).holdId });
      });
      app.use(jsonErrors);
      const http = await listen(app);
      onClose(http.close);
      urls.push(http.url);
    }
    for (let i = 0; i < 3; i++) {
      const send = (url: string) => request(url).post('/orders').set('Idempotency-Key', `instant-${i}`).send({ sku: 'a', qty: 1 });
      const first = await send(urls[0] as string).expect(201);
      const retry = await send(urls[1] as string);
      expect(retry.status, `retry ${i}`).to.equal(201);
      expect(retry.text).to.equal(first.text);
    }
    expect(await real.getStock('a')).to.equal(97);
  });

  it('two app processes (stores on their own connections) share the record: one order', async () => {
    const g = gated();
    const s1 = await shop(g.handler);
    // A second app on the same prefix, its own connection.
    const store2 = createStockStore({ redis: shared.client(), prefix: s1.prefix });
    let runs2 = 0;
    const app2 = express();
    app2.use(express.json());
    app2.post('/orders', reserveStock({ store: store2, key: (req) => req.body.sku, qty: (req) => req.body.qty }), (req, res) => {
      runs2++;
      placed(req, res, 100 + runs2);
    });
    app2.use(jsonErrors);
    const http2 = await listen(app2);
    onClose(http2.close);

    const first = post(s1, 'cross').then((r) => r);
    await g.entered;
    const other = await request(http2.url).post('/orders').set('Idempotency-Key', 'cross').send({ sku: 'a', qty: 2 });
    expect(other.status).to.equal(409);
    g.open();
    const done = await first;
    const replay = await request(http2.url).post('/orders').set('Idempotency-Key', 'cross').send({ sku: 'a', qty: 2 });
    expect(replay.status).to.equal(201);
    expect(replay.text).to.equal(done.text);
    expect(replay.headers['idempotent-replayed']).to.equal('true');
    expect(s1.runs() + runs2).to.equal(1);
    expect(await store2.getStock('a')).to.equal(8);
  });
});
