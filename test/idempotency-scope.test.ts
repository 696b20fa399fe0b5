/**
 * idempotencyScope: the same Idempotency-Key in two scopes (two customers)
 * names two requests, each with its own outcome; without a scope keys are
 * global; a scope that cannot be read is an error that claims and deducts
 * nothing; no scope and key can reach another pair's record.
 */
import { expect } from 'chai';
import createError from 'http-errors';
import type { Request } from 'express';
import { createStockStore, type RequestId } from '../lib';
import { requestKey } from '../lib/store/keys';
import { placed, post, useOrderApps, type OrderApp } from './helpers/order-app';
import { keysWithPrefix } from './helpers/redis';
import { waitFor } from './helpers/wait';

const { shared, open } = useOrderApps('scope');

/** The customer a request comes from (a stand-in for a shop's session). */
const customer = (req: Request) => req.get('x-customer') as string;

function postAs(app: OrderApp, who: string, key: string, body: object = { sku: 'a', qty: 2 }) {
  return post(app, key, body).set('X-Customer', who);
}

describe('idempotency scope', function () {
  this.timeout(30_000);

  it('the same key from two scopes: two orders, two deductions, and each retry replays its own', async () => {
    const app = await open(placed, { idempotencyScope: customer });
    const alice = await postAs(app, 'alice', 'order-1').expect(201);
    const bob = await postAs(app, 'bob', 'order-1').expect(201);
    expect(bob.headers['idempotent-replayed']).to.equal(undefined);
    expect(alice.body.order).to.equal(1);
    expect(bob.body.order).to.equal(2);
    expect(bob.body.holdId).to.not.equal(alice.body.holdId);
    for (const [who, first] of [['alice', alice], ['bob', bob]] as const) {
      const retry = await postAs(app, who, 'order-1');
      expect(retry.status, who).to.equal(201);
      expect(retry.text, who).to.equal(first.text);
      expect(retry.headers['idempotent-replayed'], who).to.equal('true');
    }
    // Independent fingerprints too: carol's first use of the key is hers, whatever alice sent with it.
    const carol = await postAs(app, 'carol', 'order-1', { sku: 'b', qty: 3 }).expect(201);
    expect(carol.body.order).to.equal(3);
    await waitFor(() => app.log.count('committed') === 3, 'the three commits');
    expect(app.runs()).to.equal(3);
    expect(await app.store.getStock('a')).to.equal(6);
    expect(await app.store.getStock('b')).to.equal(7);
  });

  it('an outcome in one scope does not leak into another: a declined order for one, a placed order for the other', async () => {
    const app = await open((req, res, order) => {
      if (req.get('x-customer') === 'alice') res.status(402).json({ error: 'card declined' });
      else placed(req, res, order);
    }, { idempotencyScope: customer });
    await postAs(app, 'alice', 'k').expect(402);
    await postAs(app, 'bob', 'k').expect(201);
    const aliceAgain = await postAs(app, 'alice', 'k');
    expect(aliceAgain.status).to.equal(402);
    expect(aliceAgain.headers['idempotent-replayed']).to.equal('true');
    await waitFor(async () => (await app.store.getHolds('a')).count === 0, 'the holds to settle');
    expect(await app.store.getStock('a')).to.equal(8);
  });

  it('without a scope keys are global: a second client with the same key gets the first one\'s answer', async () => {
    const app = await open();
    const alice = await postAs(app, 'alice', 'shared-key').expect(201);
    const bob = await postAs(app, 'bob', 'shared-key');
    expect(bob.status).to.equal(201);
    expect(bob.text).to.equal(alice.text);
    expect(bob.headers['idempotent-replayed']).to.equal('true');
    expect(app.runs()).to.equal(1);
  });

  const BAD_SCOPES: [string, (req: Request) => unknown, number][] = [
    ['throws', () => { throw new TypeError("Cannot read properties of undefined (reading 'id')"); }, 400],
    ['rejects', async () => { throw new Error('session store down'); }, 400],
    ['returns undefined', () => undefined, 400],
    ['returns a number', () => 42, 400],
    ['returns an empty string', () => '', 400],
    ['returns 513 characters', () => 'c'.repeat(513), 400],
    ['throws an http-error (401)', () => { throw createError(401, 'Sign in first'); }, 401],
  ];
  for (const [label, scope, status] of BAD_SCOPES) {
    it(`a scope function that ${label}: ${status}, nothing claimed, deducted or run`, async () => {
      const app = await open(placed, { idempotencyScope: scope as (req: Request) => string });
      const res = await post(app, 'order-x');
      expect(res.status).to.equal(status);
      if (status === 400) {
        expect(res.body.error.code).to.equal('ERR_RESERVE_STOCK_INPUT');
        expect(res.body.error.message).to.match(/idempotency scope/);
      }
      expect(app.runs()).to.equal(0);
      expect(await app.store.getStock('a')).to.equal(10);
      expect(await app.store.getHolds('a')).to.deep.include({ count: 0 });
      // No record was claimed: only the figure is there.
      expect(await keysWithPrefix(shared.redis, `${app.prefix}request:`)).to.deep.equal([]);
    });
  }

  it('a request without a key never reads the scope', async () => {
    let reads = 0;
    const app = await open(placed, { idempotencyScope: () => { reads++; return 'x'; } });
    await post(app, undefined).expect(201);
    expect(reads).to.equal(0);
    await post(app, 'with-key').expect(201);
    expect(reads).to.equal(1);
  });

  it('no scope and key can name another pair\'s record (JSON-like, escape and tag characters)', async () => {
    const pairs: RequestId[] = [
      { key: 'k', scope: undefined },
      { key: '["a","k"]', scope: undefined },
      { key: 'k', scope: 'a' },
      { key: '"k', scope: 'a"' },
      { key: 'k', scope: 'a","k' },
      { key: '","k"]', scope: 'a' },
      { key: 'k', scope: 'a}' },
      { key: 'k', scope: 'a%7D' },
      { key: '}k', scope: 'a' },
      { key: 'k', scope: 'a\\' },
      { key: 'k', scope: 'a\\"' },
      { key: 'k', scope: 'a\uD800' },
      { key: 'k', scope: 'a\uFFFD' },
      { key: 'k', scope: 'A' },
      { key: 'k', scope: ' a' },
    ];
    const prefix = shared.prefix();
    const keys = pairs.map((p) => requestKey(prefix, p.key, p.scope));
    expect(new Set(keys).size, keys.join('\n')).to.equal(pairs.length);
    // And on Redis itself (bytes, not JS strings): each pair claims a record of its own.
    const store = createStockStore({ redis: shared.redis, prefix });
    for (const [i, pair] of pairs.entries()) {
      expect(await store.requests.claim(pair, `fp-${i}`, 60), JSON.stringify(pair)).to.equal(null);
    }
    for (const [i, pair] of pairs.entries()) {
      expect(await store.requests.claim(pair, `fp-${i}`, 60)).to.deep.equal({ state: 'running', fingerprint: `fp-${i}` });
    }
    expect(await keysWithPrefix(shared.redis, `${prefix}request:`)).to.have.length(pairs.length);
  });
});
