/**
 * What per-customer limits cost Redis in memory and round trips, and how
 * long the counts live (the README's figures): memory measured with MEMORY
 * USAGE on the real Redis, key by key, so other clients of a shared Redis do
 * not blur it. Set PRINT_LIMIT_COSTS=1 to print the figures. (Redis's time
 * per call is the benchmark's to measure, never a test's.)
 */
import { expect } from 'chai';
import { createStockStore, customerDigest, stockKeys, type StockStoreOptions } from '../lib';
import { customerCounts } from './helpers/customer-counts';
import { held } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';
import { watchSentCommands } from './helpers/sent-commands';

const shared = useSharedRedis('limits-cost');

function make(options: Partial<StockStoreOptions> = {}) {
  const prefix = shared.prefix();
  const store = createStockStore({ redis: shared.redis, prefix, ...options });
  const [figure, holds] = stockKeys(prefix, 'tee').holds;
  return { store, figure, holds };
}

/** Bytes Redis uses for `key`, every element counted. */
async function usage(key: string): Promise<number> {
  return Number(await shared.redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'));
}

/** `holds` holds of one unit each of `tee`, 200 at a time: customer i % `customers` each, under a limit no one reaches (none: no customer). */
async function reserveFor(store: ReturnType<typeof make>['store'], holds: number, customers?: number): Promise<void> {
  for (let from = 0; from < holds; from += 200) {
    const batch = Array.from({ length: Math.min(200, holds - from) }, (_, j) => from + j);
    await Promise.all(
      batch.map(async (i) =>
        held(await store.reserve('tee', 1, undefined, customers === undefined ? {} : { customer: `customer-${i % customers}`, limit: holds })),
      ),
    );
  }
}

function print(line: string): void {
  if (process.env.PRINT_LIMIT_COSTS) console.log(`      ${line}`);
}

describe('per-customer limits: what they cost Redis, how long the counts live', function () {
  this.timeout(60_000);

  it("memory: a customer's count is one field of the item's holds hash, under 100 bytes; a counted hold's record is 20 bytes longer, until the record is forgotten", async () => {
    const HOLDS = 2000;
    // The same holds: uncounted, one customer each, and 20 customers' 100 each.
    const [plain, crowd, few] = [make(), make(), make()];
    for (const { store } of [plain, crowd, few]) await store.setStock('tee', HOLDS);
    await reserveFor(plain.store, HOLDS);
    await reserveFor(crowd.store, HOLDS, HOLDS);
    await reserveFor(few.store, HOLDS, 20);
    expect(Object.keys(await customerCounts(shared.redis, crowd.holds))).to.have.length(HOLDS);
    expect(Object.keys(await customerCounts(shared.redis, few.holds))).to.have.length(20);
    const base = await usage(plain.holds);
    // With 20 customers, the records' growth alone (their counts are 20 fields among 2,000).
    const record = ((await usage(few.holds)) - base) / HOLDS;
    const count = ((await usage(crowd.holds)) - base) / HOLDS - record;
    print(`a customer's count: ${count.toFixed(1)} bytes; a counted hold's record: ${record.toFixed(1)} bytes more`);
    expect(count).to.be.within(16, 100);
    // 20 bytes of record, in the allocator's size classes (16 or 32 bytes more, as a record's length falls).
    expect(record).to.be.within(12, 36);
  });

  it('round trips: a reservation under a limit, granted or refused at the limit, is one EVALSHA, as one without', async () => {
    const client = shared.client();
    const prefix = shared.prefix();
    const store = createStockStore({ redis: client, prefix });
    await store.setStock('tee', 100);
    held(await store.reserve('tee', 1)); // the script is loaded by now
    // Every command the store's client sends, by name.
    const sent: string[] = [];
    watchSentCommands(client, (command) => sent.push(command.name));
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

  it("lives: the counts, in the holds hash, outlive the figure while a limit applies, and a settled hold's retention (a quarter more at most); with a figure that never expires, never while the item has its own limit or open holds", async () => {
    const retentionSeconds = 120;
    const { store, figure, holds } = make({ ttlSeconds: 60, holdSeconds: 30, retentionSeconds });
    await store.setStock('tee', 10);
    await store.setLimit('tee', 2);
    const h = held(await store.reserve('tee', 1, undefined, { customer: 'alice' }));
    await store.commit(h.holdId);
    const [figureLife, countsLife] = (await Promise.all([figure, holds].map((k) => shared.redis.pttl(k)))) as [number, number];
    print(`lives after a commit: figure ${figureLife} ms, holds and counts ${countsLife} ms`);
    expect(countsLife).to.be.at.least(figureLife);
    expect(countsLife).to.be.at.least(retentionSeconds * 1000 - 2000);
    // Lives are stretched with a quarter to spare, no more.
    expect(countsLife).to.be.at.most(1.25 * Math.max(retentionSeconds * 1000, figureLife) + 1000);

    // A figure that never expires: an item with its own limit keeps its counts, holds open or not; one with open holds too.
    const own = make({ ttlSeconds: 0 });
    await own.store.setStock('tee', 10);
    await own.store.setLimit('tee', 2);
    await own.store.commit(held(await own.store.reserve('tee', 1, undefined, { customer: 'alice' })).holdId);
    expect(await shared.redis.pttl(own.holds)).to.equal(-1);
    const open = make({ ttlSeconds: 0 });
    await open.store.setStock('tee', 10);
    held(await open.store.reserve('tee', 1, undefined, { customer: 'alice', limit: 2 }));
    expect(await shared.redis.pttl(open.holds)).to.equal(-1);
    expect(await customerCounts(shared.redis, open.holds)).to.deep.equal({ [customerDigest('alice')]: 1 });
  });
});
