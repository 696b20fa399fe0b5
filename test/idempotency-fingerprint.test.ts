/**
 * What a retry must repeat (the fingerprint: method, path, what it reserves
 * and, by default, the whole parsed body in canonical JSON; the
 * `fingerprint` option narrows or widens the body's part), and the cap on a
 * kept answer (`maxReplayBytes`): a larger one is not kept, and its retries
 * get a 409 saying so, never a second purchase.
 */
import { expect } from 'chai';
import request from 'supertest';
import { createStockStore, reserveStock, type ReserveStockOptions } from '../lib';
import { canonicalJson } from '../lib/middleware/fingerprint';
import { requestKey } from '../lib/store/keys';
import { express, jsonErrors, listen } from './helpers/app';
import { placed, post, useOrderApps, type Handler } from './helpers/order-app';
import { keysWithPrefix } from './helpers/redis';
import { waitFor } from './helpers/wait';

const { shared, open, onClose } = useOrderApps('fprint');

const ORDER = { sku: 'a', qty: 2, payment: 'card', shipping: { speed: 'express', address: { city: 'Lyon', zip: '69001' } }, tags: ['gift', 'fragile'] };

function expectMismatch(res: request.Response, label: string): void {
  expect(res.status, label).to.equal(422);
  expect(res.body.error.code, label).to.equal('ERR_RESERVE_STOCK_IDEMPOTENCY_MISMATCH');
}

describe('idempotency fingerprint', function () {
  this.timeout(30_000);

  it('canonical JSON: key order does not matter at any depth, array order and values do', () => {
    const a = canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } });
    expect(a).to.equal('{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 })).to.equal(a);
    expect(canonicalJson({ a: [2, 1] })).to.not.equal(canonicalJson({ a: [1, 2] }));
    expect(canonicalJson({ a: '1' })).to.not.equal(canonicalJson({ a: 1 }));
    expect(canonicalJson(undefined)).to.equal(undefined);
  });

  it('the same body with its keys in another order is the same request: replayed', async () => {
    const app = await open();
    const first = await post(app, 'k', ORDER).expect(201);
    const reordered = { tags: ['gift', 'fragile'], shipping: { address: { zip: '69001', city: 'Lyon' }, speed: 'express' }, payment: 'card', qty: 2, sku: 'a' };
    const retry = await post(app, 'k', reordered);
    expect(retry.status).to.equal(201);
    expect(retry.text).to.equal(first.text);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(app.runs()).to.equal(1);
  });

  const CHANGES: [string, object][] = [
    ['another top-level field', { ...ORDER, payment: 'decline' }],
    ['a nested field', { ...ORDER, shipping: { ...ORDER.shipping, address: { city: 'Lyon', zip: '69002' } } }],
    ['an extra field', { ...ORDER, note: 'leave at the door' }],
    ['a missing field', { sku: 'a', qty: 2, payment: 'card', shipping: ORDER.shipping }],
    ['an array in another order', { ...ORDER, tags: ['fragile', 'gift'] }],
    ['a number sent as a string', { ...ORDER, shipping: { ...ORDER.shipping, address: { city: 'Lyon', zip: 69001 } } }],
  ];
  it('any other body is another request: 422 for each change, while the first runs and after, nothing deducted again', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const app = await open(async (req, res, order) => {
      await gate;
      placed(req, res, order);
    });
    const first = post(app, 'k', ORDER).then((r) => r);
    await waitFor(() => app.runs() === 1, 'the first request to run');
    for (const [label, body] of CHANGES) expectMismatch(await post(app, 'k', body), `${label}, while running`);
    release();
    expect((await first).status).to.equal(201);
    for (const [label, body] of CHANGES) expectMismatch(await post(app, 'k', body), `${label}, after`);
    expect((await post(app, 'k', ORDER)).headers['idempotent-replayed']).to.equal('true');
    expect(app.runs()).to.equal(1);
    expect(await app.store.getStock('a')).to.equal(8);
  });

  it('a declined payment retried with another payment method is a 422, not the 402 again, and not a purchase', async () => {
    const app = await open((req, res, order) => {
      if (req.body.payment === 'decline') res.status(402).json({ error: 'card declined' });
      else placed(req, res, order);
    });
    await post(app, 'pay-1', { sku: 'a', qty: 2, payment: 'decline' }).expect(402);
    expectMismatch(await post(app, 'pay-1', { sku: 'a', qty: 2, payment: 'card' }), 'card after decline');
    expect(app.runs()).to.equal(1);
    await waitFor(async () => (await app.store.getHolds('a')).count === 0, 'the declined hold to go back');
    expect(await app.store.getStock('a')).to.equal(10);
  });

  it('a fingerprint option narrows the match: a field it leaves out may change; what is reserved, the method and the path always count', async () => {
    const app = await open(placed, { fingerprint: (req) => String(req.body.payment) });
    const first = await post(app, 'k', { sku: 'a', qty: 2, payment: 'card', clientTime: 1 }).expect(201);
    const retry = await post(app, 'k', { sku: 'a', qty: 2, payment: 'card', clientTime: 2 });
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(retry.text).to.equal(first.text);
    expectMismatch(await post(app, 'k', { sku: 'a', qty: 2, payment: 'paypal', clientTime: 3 }), 'another payment');
    expectMismatch(await post(app, 'k', { sku: 'a', qty: 3, payment: 'card' }), 'another quantity');
    expectMismatch(await post(app, 'k', { sku: 'b', qty: 2, payment: 'card' }), 'another sku');
    expectMismatch(await post(app, 'k', { sku: 'a', qty: 2, payment: 'card' }, '/gifts'), 'another route');
    expect(app.runs()).to.equal(1);
    expect(await app.store.getStock('a')).to.equal(8);
  });

  const BAD_FINGERPRINTS: [string, () => unknown][] = [
    ['throws', () => { throw new TypeError('no body'); }],
    ['returns a number', () => 7],
    ['returns undefined', () => undefined],
  ];
  for (const [label, fingerprint] of BAD_FINGERPRINTS) {
    it(`a fingerprint function that ${label}: 400, nothing claimed or deducted`, async () => {
      const app = await open(placed, { fingerprint: fingerprint as () => string });
      const res = await post(app, 'k');
      expect(res.status).to.equal(400);
      expect(res.body.error.code).to.equal('ERR_RESERVE_STOCK_INPUT');
      expect(res.body.error.message).to.match(/fingerprint/);
      expect(app.runs()).to.equal(0);
      expect(await app.store.getStock('a')).to.equal(10);
      expect(await keysWithPrefix(shared.redis, `${app.prefix}request:`)).to.deep.equal([]);
    });
  }

  it('a body no parser read is not covered (method, path and what is reserved are); a text body is', async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix });
    await store.setStock('a', 10);
    let runs = 0;
    const app = express();
    const reserve = reserveStock({ store, key: (req) => String(req.query.sku), qty: 1 });
    const handle: Handler = (_req, res) => res.status(201).json({ order: ++runs });
    app.post('/raw', reserve, (req, res) => handle(req, res, 0));
    app.post('/text', express.text(), reserve, (req, res) => handle(req, res, 0));
    app.use(jsonErrors);
    const http = await listen(app);
    onClose(http.close);
    const send = (path: string, key: string, body: string) =>
      request(http.url).post(path).set('Idempotency-Key', key).type('text/plain').send(body);

    await send('/raw?sku=a', 'raw', 'first').expect(201);
    const raw = await send('/raw?sku=a', 'raw', 'something else');
    expect(raw.headers['idempotent-replayed'], 'unparsed body: not part of the fingerprint').to.equal('true');
    expectMismatch(await send('/raw?sku=b', 'raw', 'first'), 'another sku from the query');

    await send('/text?sku=a', 'text', 'first').expect(201);
    expect((await send('/text?sku=a', 'text', 'first')).headers['idempotent-replayed']).to.equal('true');
    expectMismatch(await send('/text?sku=a', 'text', 'second'), 'another text body');
    expect(runs).to.equal(2);
    expect(await store.getStock('a')).to.equal(8);
  });
});

describe('idempotency: the cap on a kept answer (maxReplayBytes)', function () {
  this.timeout(30_000);

  /** Answers `status` with a JSON body of about `bytes` bytes (its `pad`). */
  const sized = (status: number, bytes: number): Handler => (_req, res, order) => {
    res.status(status).json({ order, pad: 'x'.repeat(bytes - 30) });
  };

  async function recordSize(prefix: string, key: string): Promise<number> {
    const value = await shared.redis.get(requestKey(prefix, key));
    if (value === null) throw new Error(`no record for ${key}`);
    return value.length;
  }

  async function expectTooLarge(app: Awaited<ReturnType<typeof open>>, key: string, firstStatus: number, body?: object): Promise<void> {
    for (let i = 0; i < 2; i++) {
      const retry = await post(app, key, body);
      expect(retry.status).to.equal(409);
      expect(retry.body.error).to.include({ code: 'ERR_RESERVE_STOCK_IDEMPOTENCY_TOO_LARGE', firstStatus });
      expect(retry.body.error.message).to.match(/too large/);
      expect(retry.headers['idempotent-replayed']).to.equal(undefined);
    }
  }

  it('by default an answer over 64 kB is not kept: its retries get a 409 saying so and buy nothing; the record stays small', async () => {
    const app = await open(sized(201, 70_000));
    const first = await post(app, 'big').expect(201);
    expect(first.text.length).to.be.greaterThan(65_536);
    await expectTooLarge(app, 'big', 201);
    expect(app.runs()).to.equal(1);
    await waitFor(() => app.log.count('committed') === 1, 'the commit');
    expect(await app.store.getStock('a')).to.equal(8);
    expect(await recordSize(app.prefix, 'big')).to.be.below(200);
  });

  it('by default an answer just under 64 kB is kept and replayed whole', async () => {
    const app = await open(sized(201, 65_000));
    const first = await post(app, 'under').expect(201);
    expect(first.text.length).to.be.within(64_000, 65_536);
    const retry = await post(app, 'under').expect(201);
    expect(retry.text).to.equal(first.text);
    expect(retry.headers['idempotent-replayed']).to.equal('true');
    expect(app.runs()).to.equal(1);
  });

  it('maxReplayBytes sets the cap: exactly that many bytes replay, one more does not', async () => {
    const body = (n: number) => 'y'.repeat(n);
    const app = await open((req, res) => res.status(201).type('text/plain').send(body(req.body.bytes)), { maxReplayBytes: 1000 });
    await post(app, 'at', { sku: 'a', qty: 1, bytes: 1000 }).expect(201);
    const atCap = await post(app, 'at', { sku: 'a', qty: 1, bytes: 1000 }).expect(201);
    expect(atCap.text).to.equal(body(1000));
    expect(atCap.headers['idempotent-replayed']).to.equal('true');
    await post(app, 'over', { sku: 'a', qty: 1, bytes: 1001 }).expect(201);
    await expectTooLarge(app, 'over', 201, { sku: 'a', qty: 1, bytes: 1001 });
    expect(app.runs()).to.equal(2);
    expect(await app.store.getStock('a')).to.equal(8);
  });

  it('a streamed answer that grows past the cap part by part is not kept either', async () => {
    const app = await open((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/x-ndjson' });
      for (let i = 0; i < 20; i++) res.write(`${JSON.stringify({ part: i, pad: 'z'.repeat(90) })}\n`);
      res.end();
    }, { maxReplayBytes: 1024 });
    const first = await post(app, 'stream').expect(201);
    expect(first.text.split('\n')).to.have.length(21);
    await expectTooLarge(app, 'stream', 201);
    expect(app.runs()).to.equal(1);
  });

  it('a large 4xx is not kept either: its retry says which status it was, and the units went back once', async () => {
    const app = await open(sized(402, 5_000), { maxReplayBytes: 1024 });
    await post(app, 'declined').expect(402);
    await expectTooLarge(app, 'declined', 402);
    await waitFor(() => app.log.count('released') === 1, 'the give-back');
    expect(app.runs()).to.equal(1);
    expect(await app.store.getStock('a')).to.equal(10);
  });

  it('a retry of a too-large answer with another body is still a 422', async () => {
    const app = await open(sized(201, 2_000), { maxReplayBytes: 1024 });
    await post(app, 'k').expect(201);
    expectMismatch(await post(app, 'k', { sku: 'a', qty: 3 }), 'another quantity');
  });

  for (const [label, options] of [
    ['negative', { maxReplayBytes: -1 }],
    ['fractional', { maxReplayBytes: 1.5 }],
    ['a string', { maxReplayBytes: '64kb' }],
    ['over 16 MiB', { maxReplayBytes: 16 * 1024 * 1024 + 1 }],
  ] as [string, Partial<ReserveStockOptions>][]) {
    it(`maxReplayBytes ${label}: ConfigError ERR_RESERVE_STOCK_OPTION at setup`, () => {
      const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
      expect(() => reserveStock({ store, key: 'a', ...options })).to.throw().with.property('code', 'ERR_RESERVE_STOCK_OPTION');
    });
  }
});
