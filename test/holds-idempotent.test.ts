/**
 * Idempotency at the Redis level: the hold id is made before the call, so a
 * reservation sent twice (a retry, or ioredis resending what was in flight
 * when its connection dropped) deducts once. Shown with CLIENT KILL on a
 * private redis-server while thousands of reservations, releases and
 * commits are in flight.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import { createStockStore, type ReserveResult, type SettleResult, type StockStore } from '../lib';
import { EventLog } from './helpers/events';
import { expectHoldId, withoutHold, held, type Held } from './helpers/holds';
import { uniquePrefix, useSharedRedis } from './helpers/redis';
import { RedisServer } from './helpers/redis-server';
import { sleep, waitFor } from './helpers/wait';

const shared = useSharedRedis('holds-idem');

describe('holds: a reservation is idempotent per hold id', () => {
  it('holdId(key, seed) is the same for the same key and seed, and different otherwise', () => {
    const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
    const a = store.holdId('sku', 'order-1');
    expectHoldId(a, 'sku');
    expect(store.holdId('sku', 'order-1')).to.equal(a);
    expect(createStockStore({ redis: shared.redis, prefix: shared.prefix() }).holdId('sku', 'order-1')).to.equal(a);
    expect(store.holdId('sku', 'order-2')).to.not.equal(a);
    expect(store.holdId('other', 'order-1')).to.not.equal(a);
    expectHoldId(store.holdId('other', 'order-1'), 'other');
    const random = new Set(Array.from({ length: 100 }, () => store.holdId('sku')));
    expect(random.size).to.equal(100);
    for (const id of random) expectHoldId(id, 'sku');
  });

  it('a second call with the same id answers as the first and deducts nothing', async () => {
    const log = new EventLog();
    const store = createStockStore({ redis: shared.redis, prefix: shared.prefix(), onEvent: log.onEvent });
    await store.setStock('sku', 10);
    const holdId = store.holdId('sku', 'order-1');
    const first = await store.reserve('sku', 3, undefined, { holdId });
    expect(withoutHold(first, 'sku')).to.deep.equal({ status: 'reserved', remaining: 7 });
    expect(held(first).holdId).to.equal(holdId);
    expect(await store.reserve('sku', 3, undefined, { holdId })).to.deep.equal(first);
    // Even with another quantity: the id names the first reservation.
    expect(await store.reserve('sku', 5, undefined, { holdId })).to.deep.equal(first);
    expect(await store.getStock('sku')).to.equal(7);
    expect(await store.getHolds('sku')).to.deep.equal({
      key: 'sku',
      count: 1,
      units: 3,
      inDoubt: 0,
      holds: [{ holdId, qty: 3, expiresAt: first.status === 'reserved' ? first.expiresAt : 0, state: 'held' }],
    });
    // A replayed answer reserved nothing: one `reserved` event in all, so
    // counters fed by events count each hold once.
    expect(log.events.filter((e) => e.type === 'reserved')).to.have.length(1);
  });

  it('200 concurrent calls with one id from three connections: one deduction, one answer', async () => {
    const prefix = shared.prefix();
    const stores = [0, 1, 2].map(() => createStockStore({ redis: shared.client(), prefix }));
    const store = stores[0] as StockStore;
    await store.setStock('sku', 10);
    const holdId = store.holdId('sku', 'retry-storm');
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (stores[i % 3] as StockStore).reserve('sku', 4, undefined, { holdId })),
    );
    const first = held(answers[0] as ReserveResult);
    expect(first).to.include({ status: 'reserved', remaining: 6, holdId });
    for (const a of answers) expect(a).to.deep.equal(first);
    expect(await store.getStock('sku')).to.equal(6);
    expect(await store.getHolds('sku')).to.deep.include({ count: 1, units: 4 });
  });

  it('the same id on a figure that is missing: loaded once, deducted once', async () => {
    const prefix = shared.prefix();
    const stores = [0, 1, 2].map(() => createStockStore({ redis: shared.client(), prefix }));
    let loads = 0;
    const loader = async () => {
      loads++;
      await sleep(50);
      return 10;
    };
    const holdId = (stores[0] as StockStore).holdId('cold', 'first-order');
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (stores[i % 3] as StockStore).reserve('cold', 2, loader, { holdId })),
    );
    expect(loads).to.equal(1);
    for (const a of answers) expect(a).to.deep.equal(answers[0]);
    expect(answers[0]).to.include({ status: 'reserved', remaining: 8, holdId });
    expect(await (stores[0] as StockStore).getStock('cold')).to.equal(8);
  });

  it('after the hold was extended, a resend answers with its current expiry', async () => {
    const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
    await store.setStock('sku', 10);
    const holdId = store.holdId('sku', 'slow-payment');
    const first = held(await store.reserve('sku', 1, undefined, { holdId, holdSeconds: 60 }));
    const extended = await store.extend(holdId, 600);
    expect(await store.reserve('sku', 1, undefined, { holdId })).to.deep.equal({ ...first, expiresAt: extended.expiresAt });
    expect(await store.getStock('sku')).to.equal(9);
  });

  for (const end of ['committed', 'released'] as const) {
    it(`a resend after the hold was ${end} answers as the first call and deducts nothing`, async () => {
      const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
      await store.setStock('sku', 10);
      const holdId = store.holdId('sku', `then-${end}`);
      const first = held(await store.reserve('sku', 2, undefined, { holdId }));
      await (end === 'committed' ? store.commit(holdId) : store.release(holdId));
      const figure = end === 'committed' ? 8 : 10;
      expect(await store.getStock('sku')).to.equal(figure);
      expect(await store.reserve('sku', 2, undefined, { holdId })).to.deep.equal(first);
      expect(await store.getStock('sku')).to.equal(figure);
      expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
      expect(await store.commit(holdId)).to.deep.equal({ state: end, changed: false });
    });
  }

  it('an id refused for want of stock holds nothing: it can reserve once there is stock', async () => {
    const store = createStockStore({ redis: shared.redis, prefix: shared.prefix() });
    await store.setStock('sku', 1);
    const holdId = store.holdId('sku', 'too-early');
    expect(await store.reserve('sku', 2, undefined, { holdId })).to.deep.equal({ status: 'insufficient', available: 1 });
    expect(await store.release(holdId)).to.deep.equal({ state: 'unknown', changed: false });
    await store.addStock('sku', 1);
    expect(await store.reserve('sku', 2, undefined, { holdId })).to.include({ status: 'reserved', remaining: 0, holdId });
    expect(await store.getStock('sku')).to.equal(0);
  });
});

describe('holds: CLIENT KILL while reservations are in flight (private redis-server)', function () {
  this.timeout(120_000);

  let server: RedisServer;
  let admin: Redis;
  let redis: Redis;

  before(async () => {
    server = await RedisServer.start();
    admin = new Redis(server.url);
  });
  beforeEach(async () => {
    // Defaults: ioredis resends the commands in flight when a connection drops.
    redis = new Redis(server.url);
    redis.on('error', () => {}); // the killed connection reports here
    await redis.ping();
    expect(redis.options.autoResendUnfulfilledCommands).to.equal(true);
  });
  afterEach(async () => {
    redis.disconnect();
    await admin.flushall(); // the private server only
  });
  after(async () => {
    admin?.disconnect();
    await server?.dispose();
  });

  /** Script runs the server has executed so far (EVALSHA and EVAL). */
  async function scriptRuns(): Promise<number> {
    const info = await admin.info('commandstats');
    let runs = 0;
    for (const match of info.matchAll(/^cmdstat_(?:evalsha|eval):calls=(\d+)/gm)) runs += Number(match[1]);
    return runs;
  }

  /**
   * Sends `count` calls at once on the connection and kills it (by its own
   * CLIENT ID, from the admin connection) in the middle of them: the server
   * is frozen while the calls and then the kill reach it, so when it wakes
   * it reads the calls' socket first (it was readable first), runs the
   * calls it read, and then reads the kill, which drops the connection with
   * those calls' replies unsent. Waits for every answer and for the client
   * to be back. Returns the answers and how many script runs the server saw
   * beyond one per call: executions whose reply was lost and that ioredis
   * sent again.
   */
  async function killMidFlight<T>(
    count: number,
    call: (i: number) => Promise<T>,
  ): Promise<{ results: PromiseSettledResult<T>[]; resent: number; killed: number }> {
    const id = await redis.client('ID');
    const before = await scriptRuns();
    const closed = new Promise((resolve) => redis.once('close', resolve));
    server.pause();
    const calls = Array.from({ length: count }, (_, i) => call(i));
    await sleep(50); // the calls are on the wire before the kill
    const kill = admin.client('KILL', 'ID', String(id));
    await sleep(50);
    server.resume();
    const killed = Number(await kill);
    const results = await Promise.allSettled(calls);
    await closed;
    await waitFor(() => redis.status === 'ready', 'the client to reconnect', 15_000);
    const after = await scriptRuns();
    return { results, resent: after - before - count, killed };
  }

  /** Rounds go on, up to this many, until some call is seen to run twice. */
  const MAX_ROUNDS = 8;

  it('no unit is deducted twice: figure == initial - units of the holds that exist', async () => {
    const log = new EventLog();
    const prefix = uniquePrefix('kill');
    const store = createStockStore({ redis, prefix, timeoutMs: 30_000, onEvent: log.onEvent });
    const INITIAL = 1_000_000;
    await store.setStock('sku', INITIAL, 0);
    const N = 4000;
    const qtyOf = (i: number) => (i % 3) + 1;
    let resentTotal = 0;
    let expectedUnits = 0;
    let expectedHolds = 0;

    for (let round = 0; round < MAX_ROUNDS && (round < 3 || resentTotal === 0); round++) {
      const { results, resent, killed } = await killMidFlight(N, (i) => store.reserve('sku', qtyOf(i)));
      expect(killed, 'our own connection was killed').to.equal(1);
      resentTotal += resent;
      const failed = results.filter((r) => r.status === 'rejected');
      expect(failed.map((r) => String((r as PromiseRejectedResult).reason)), 'every call answered').to.deep.equal([]);
      const answers = results.map((r) => held((r as PromiseFulfilledResult<ReserveResult>).value));
      expect(new Set(answers.map((a) => a.holdId)).size).to.equal(N);
      expectedUnits += answers.reduce((sum, _a, i) => sum + qtyOf(i), 0);
      expectedHolds += N;

      // Each hold was deducted once: the figure and the open holds agree.
      const holds = await store.getHolds('sku');
      expect(holds.count, `round ${round}: open holds`).to.equal(expectedHolds);
      expect(holds.units, `round ${round}: units held`).to.equal(expectedUnits);
      expect(await store.getStock('sku'), `round ${round}: figure`).to.equal(INITIAL - expectedUnits);
      // Each answer is its hold: the 'remaining' figures are distinct, one per deduction.
      expect(new Set(answers.map((a) => a.remaining)).size, `round ${round}: distinct remainders`).to.equal(N);
    }
    // Some reservations ran twice on the server (their first reply was lost) and deducted once.
    expect(resentTotal, 'resent reservations (the kill must land mid-flight)').to.be.above(0);
    expect(log.count('error')).to.equal(0);
  });

  it('releases and commits resent after the kill give back (or keep) each hold once', async () => {
    const prefix = uniquePrefix('kill-settle');
    const store = createStockStore({ redis, prefix, timeoutMs: 30_000 });
    const INITIAL = 100_000;
    await store.setStock('sku', INITIAL, 0);
    const BATCH = 1000;
    let reserved = 0;
    let resentTotal = 0;
    const answers: SettleResult[] = [];

    // Each round: 1,000 fresh holds (no kill), then their releases (even)
    // and commits (odd) killed mid-flight; rounds go on until some settle
    // is seen to have run twice on the server (its first reply lost).
    for (let round = 0; round < MAX_ROUNDS && (round < 3 || resentTotal === 0); round++) {
      const holds = await Promise.all(Array.from({ length: BATCH }, () => store.reserve('sku', 2).then(held)));
      reserved += BATCH;
      const { results, resent, killed } = await killMidFlight(BATCH, (k) => {
        const id = (holds[k] as Held).holdId;
        return k % 2 ? store.commit(id) : store.release(id);
      });
      expect(killed).to.equal(1);
      resentTotal += resent;
      for (const r of results) {
        expect(r.status).to.equal('fulfilled');
        answers.push((r as PromiseFulfilledResult<SettleResult>).value);
      }
    }
    // A resend must really have happened, or this test showed nothing.
    expect(resentTotal, 'settles run twice on the server (the kill must land mid-flight)').to.be.above(0);
    // Every hold is settled as asked...
    for (const [i, a] of answers.entries()) expect(a.state, `hold ${i}`).to.equal(i % 2 ? 'committed' : 'released');
    // ...and each call the server ran twice was answered by its second run,
    // which found the hold settled by the first: exactly one `changed: false`
    // per resend (a settle that ran twice and moved the hold twice would
    // show fewer).
    expect(answers.filter((a) => !a.changed), 'answers of resent settles').to.have.length(resentTotal);
    expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
    // The released half came back once; the committed half stays taken.
    expect(await store.getStock('sku')).to.equal(INITIAL - reserved);
  });
});
