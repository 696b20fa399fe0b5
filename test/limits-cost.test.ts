/**
 * What per-customer limits cost Redis in memory and round trips, and how
 * long the counts live (the README's figures): memory measured with MEMORY
 * USAGE on the real Redis, key by key, so other clients of a shared Redis do
 * not blur it. Set PRINT_LIMIT_COSTS=1 to print the figures. (Redis's time
 * per call is the benchmark's to measure, never a test's.)
 */
import { expect } from 'chai';
import type { Command } from 'ioredis';
import { createStockStore, customerDigest, stockKeys, type StockStoreOptions } from '../lib';
import { held } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';

const shared = useSharedRedis('limits-cost');

function make(options: Partial<StockStoreOptions> = {}) {
  const prefix = shared.prefix();
  const store = createStockStore({ redis: shared.redis, prefix, ...options });
  const [figure, holds, , , , , customers] = stockKeys(prefix, 'tee').holds;
  return { store, figure, holds, customers };
}

/** Bytes Redis uses for `key`, every element counted. */
async function usage(key: string): Promise<number> {
  return Number(await shared.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
}

/** `customers` customers reserve one unit each of `tee`, 200 at a time, under a limit of 1. */
async function reserveFor(store: ReturnType<typeof make>['store'], customers: number, from = 0, limit = 1): Promise<void> {
  for (let i = from; i < from + customers; i += 200) {
    const batch = Array.from({ length: Math.min(200, from + customers - i) }, (_, j) => `customer-${i + j}`);
    await Promise.all(batch.map(async (customer) => held(await store.reserve('tee', 1, undefined, { customer, limit }))));
  }
}

function print(line: string): void {
  if (process.env.PRINT_LIMIT_COSTS) console.log(`      ${line}`);
}

describe('per-customer limits: what they cost Redis, how long the counts live', function () {
  this.timeout(60_000);

  it('memory: a few dozen bytes per customer per item while the item has few counted customers, under 100 past that', async () => {
    // Redis keeps a small hash as one compact listpack, a larger one as a hash table.
    const [, compactMax] = (await shared.redis.call('CONFIG', 'GET', 'hash-max-listpack-entries')) as [string, string];
    const small = Math.min(100, Math.floor(Number(compactMax) / 2));
    const large = Number(compactMax) * 4;
    const { store, customers } = make();
    await store.setStock('tee', large + 10);
    await reserveFor(store, 1);
    const one = await usage(customers);
    await reserveFor(store, small - 1, 1);
    const compact = (await usage(customers)) - one;
    await reserveFor(store, large - small, small);
    const table = (await usage(customers)) - one;
    expect(await shared.redis.hlen(customers)).to.equal(large);
    const compactEach = compact / (small - 1);
    const tableEach = table / (large - 1);
    print(`customers hash: ${one} bytes with one customer; ${compactEach.toFixed(1)} bytes per customer up to ${compactMax} (listpack); ${tableEach.toFixed(1)} per customer at ${large}`);
    expect(compactEach).to.be.within(18, 32);
    expect(tableEach).to.be.within(32, 100);
  });

  it('memory: a hold counted toward a limit keeps its customer and units in its record (20 bytes longer), until the record is forgotten', async () => {
    const plain = make();
    const counted = make();
    for (const { store } of [plain, counted]) await store.setStock('tee', 1000);
    await Promise.all(Array.from({ length: 500 }, async () => held(await plain.store.reserve('tee', 1))));
    await reserveFor(counted.store, 500);
    const extra = ((await usage(counted.holds)) - (await usage(plain.holds))) / 500;
    print(`hold record: ${extra.toFixed(1)} bytes more per counted hold`);
    // 20 bytes of record, in the allocator's size classes (16 or 32 bytes more, as a record's length falls).
    expect(extra).to.be.within(12, 32);
  });

  it('round trips: a reservation under a limit, granted or refused at the limit, is one EVALSHA, as one without', async () => {
    const client = shared.client();
    const prefix = shared.prefix();
    const store = createStockStore({ redis: client, prefix });
    await store.setStock('tee', 100);
    held(await store.reserve('tee', 1)); // the script is loaded by now
    // Every command the store's client sends, by name.
    const sent: string[] = [];
    const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
    client.sendCommand = ((command: Command, ...rest: unknown[]) => {
      sent.push(command.name);
      return send(command, ...rest);
    }) as typeof client.sendCommand;
    const counted = async (call: () => Promise<unknown>) => {
      sent.length = 0;
      await call();
      return [...sent];
    };
    expect(await counted(() => store.reserve('tee', 1))).to.deep.equal(['evalsha']);
    expect(await counted(() => store.reserve('tee', 2, undefined, { customer: 'alice', limit: 2 }))).to.deep.equal(['evalsha']);
    const refused = await counted(async () => expect(await store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 })).to.include({ status: 'limit' }));
    expect(refused).to.deep.equal(['evalsha']);
  });

  it("lives: the counts outlive the figure while a limit applies, and a settled hold's retention (a quarter more at most); with a figure that never expires, never while the item has its own limit or open holds", async () => {
    const retentionSeconds = 120;
    const { store, figure, holds, customers } = make({ ttlSeconds: 60, holdSeconds: 30, retentionSeconds });
    await store.setStock('tee', 10);
    await store.setLimit('tee', 2);
    const h = held(await store.reserve('tee', 1, undefined, { customer: 'alice' }));
    await store.commit(h.holdId);
    const [figureLife, holdsLife, countsLife] = (await Promise.all([figure, holds, customers].map((k) => shared.redis.pttl(k)))) as [number, number, number];
    print(`lives after a commit: figure ${figureLife} ms, holds ${holdsLife} ms, counts ${countsLife} ms`);
    expect(countsLife).to.be.at.least(figureLife);
    expect(countsLife).to.be.at.least(retentionSeconds * 1000 - 2000);
    // Lives are stretched with a quarter to spare, no more.
    expect(countsLife).to.be.at.most(1.25 * Math.max(retentionSeconds * 1000, figureLife) + 1000);
    expect(Math.abs(countsLife - holdsLife)).to.be.below(1000);

    // A figure that never expires: an item with its own limit keeps its counts, holds open or not; one with open holds too.
    const own = make({ ttlSeconds: 0 });
    await own.store.setStock('tee', 10);
    await own.store.setLimit('tee', 2);
    await own.store.commit(held(await own.store.reserve('tee', 1, undefined, { customer: 'alice' })).holdId);
    expect(await shared.redis.pttl(own.customers)).to.equal(-1);
    const open = make({ ttlSeconds: 0 });
    await open.store.setStock('tee', 10);
    held(await open.store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 }));
    expect(await shared.redis.pttl(open.customers)).to.equal(-1);
    expect(await shared.redis.hget(open.customers, customerDigest('alice'))).to.equal('1');
  });
});
