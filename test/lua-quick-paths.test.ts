/**
 * reserveHold-6 and settleHold-6 answer their common cases on a quick path
 * written out inline (each Lua closure a script makes costs Redis time on
 * every call), ahead of the general path in the library. The quick path
 * must write exactly what the general path writes: from two copies of the
 * same item, one call through the quick path alone and one through the
 * general path alone must leave the same figure, records, counters, tickets
 * and keys (times within the few milliseconds between the two calls).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createStockStore, customerDigest, stockKeys, type StockStore } from '../lib';
import { scriptSource } from '../lib/scripts/commands';
import { readLuaScripts } from '../lib/scripts/lua-files';
import { customerCounts } from './helpers/customer-counts';
import { held } from './helpers/holds';
import { useSharedRedis } from './helpers/redis';

const shared = useSharedRedis('quick');
const HOLD_MS = 900_000;
const RETENTION_MS = 86_400_000;
/** Milliseconds two calls a moment apart may differ by in the times they write. */
const CLOCK_SLACK = 200;

/** The general paths alone, as scripts of their own over the same includes. */
function generalPaths(): { reserve: string; settle: string } {
  const dir = mkdtempSync(join(tmpdir(), 'reserve-stock-general-'));
  try {
    cpSync(join(__dirname, '..', 'lua', 'includes'), join(dir, 'includes'), { recursive: true });
    writeFileSync(
      join(dir, 'generalReserve-6.lua'),
      [
        'local L = {}',
        '--- @include "includes/reserve"',
        "local who = ARGV[5] ~= '' and ARGV[5] or nil",
        "return L.reserveOne(KEYS, ARGV[2], tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4]), redis.call('GET', KEYS[1]), nil, who, tonumber(ARGV[6]))",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(dir, 'generalSettle-6.lua'),
      'local L = {}\n--- @include "includes/settleOne"\nreturn L.settleOne(KEYS, ARGV[1], ARGV[2], tonumber(ARGV[3]))\n',
    );
    const scripts = readLuaScripts(dir);
    return { reserve: scripts['generalReserve-6.lua'] as string, settle: scripts['generalSettle-6.lua'] as string };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A hot script with its general path cut off: it answers 'general' where the quick path did not. */
function quickOnly(name: 'reserveHold' | 'settleHold'): string {
  const source = scriptSource(name);
  const cut = source.replace(/\nreturn library\(\)\.\w+\([^\n]*\)\n$/, "\nreturn 'general'\n");
  if (cut === source) throw new Error(`no general path at the end of ${name}`);
  return cut;
}

interface Snapshot {
  figure: string | null;
  customers: Record<string, number>;
  counters: number[] | null;
  records: Record<string, [state: string, qty: number, epoch: number, expiry: number, code: number, customer: string]>;
  due: [at: number, nonce: string][];
  dueSorted: string[];
  purge: [at: number, nonce: string][];
  quiet: boolean;
  /** Which keys have a TTL: -1 none, 1 some, -2 absent. */
  lives: number[];
}

function ticketOf(raw: Buffer): [number, string] {
  return [raw.readUIntBE(0, 6), raw.subarray(6).toString()];
}

async function snapshot(prefix: string, key: string): Promise<Snapshot> {
  const redis = shared.redis;
  const [figure, holds, due, dueSorted, purge, quiet] = stockKeys(prefix, key).holds;
  const fields = await redis.hgetallBuffer(holds);
  const records: Snapshot['records'] = {};
  let counters: number[] | null = null;
  for (const [field, value] of Object.entries(fields)) {
    if (field === '#') counters = Array.from({ length: value.length / 8 }, (_, i) => value.readDoubleBE(i * 8));
    // A hold's nonce (22 characters); a customer's count, named by their digest, is read below.
    else if (field.length === 22) {
      const customer = value.length > 19 ? `${value.readUInt32BE(19)}:${value.subarray(23).toString()}` : '';
      records[field] = [value.subarray(0, 1).toString(), value.readUInt32BE(1), value.readUInt32BE(5), value.readUIntBE(9, 6), value.readInt32BE(15), customer];
    }
  }
  const lives = await Promise.all([figure, holds, due, dueSorted, purge].map(async (k) => Math.sign(await redis.pttl(k))));
  return {
    figure: await redis.get(figure),
    customers: await customerCounts(redis, holds),
    counters,
    records,
    due: (await redis.lrangeBuffer(due, 0, -1)).map(ticketOf),
    dueSorted: await redis.zrange(dueSorted, '0', '-1', 'WITHSCORES'),
    purge: (await redis.lrangeBuffer(purge, 0, -1)).map(ticketOf),
    quiet: (await redis.exists(quiet)) === 1,
    lives,
  };
}

/** Equal, times within CLOCK_SLACK ms. */
function expectSame(quick: Snapshot, general: Snapshot): void {
  const near = (a: number, b: number, what: string) => expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).to.be.at.most(CLOCK_SLACK);
  expect(quick.figure).to.equal(general.figure);
  expect(quick.customers).to.deep.equal(general.customers);
  expect(Object.keys(quick.records).sort()).to.deep.equal(Object.keys(general.records).sort());
  for (const [id, [s, q, e, x, r, who]] of Object.entries(quick.records)) {
    const [gs, gq, ge, gx, gr, gwho] = general.records[id] as Snapshot['records'][string];
    expect([s, q, e, r, who], id).to.deep.equal([gs, gq, ge, gr, gwho]);
    near(x, gx, `record ${id} expiry`);
  }
  expect(quick.counters === null).to.equal(general.counters === null);
  // d n u e a m t p l f k g: times are d, t, p, l, f.
  const TIMES = new Set([0, 6, 7, 8, 9]);
  (quick.counters ?? []).forEach((value, i) => {
    const other = (general.counters as number[])[i] as number;
    if (TIMES.has(i) && value > 0 && other > 0) near(value, other, `counter ${i}`);
    else expect(value, `counter ${i}`).to.equal(other);
  });
  for (const list of ['due', 'purge'] as const) {
    expect(quick[list].map(([, id]) => id), list).to.deep.equal(general[list].map(([, id]) => id));
    quick[list].forEach(([at], i) => near(at, (general[list][i] as [number, string])[0], `${list} ticket ${i}`));
  }
  expect(quick.dueSorted).to.deep.equal(general.dueSorted);
  expect(quick.quiet).to.equal(general.quiet);
  expect(quick.lives).to.deep.equal(general.lives);
}

/** Copies every key of item `from` to item `to` (values and TTLs). */
async function copyItem(prefix: string, from: string, to: string): Promise<void> {
  const redis = shared.redis;
  const source = stockKeys(prefix, from).holds;
  const target = stockKeys(prefix, to).holds;
  for (const [i, key] of source.entries()) {
    const dumped = await redis.dumpBuffer(key);
    if (dumped === null) continue;
    const ttl = await redis.pttl(key);
    await redis.restore(target[i] as string, ttl > 0 ? ttl : 0, dumped, 'REPLACE');
  }
}

describe('Lua: the quick paths write what the general paths write', () => {
  let general: { reserve: string; settle: string };
  let prefix: string;
  let store: StockStore;

  before(() => {
    general = generalPaths();
  });

  beforeEach(async () => {
    prefix = shared.prefix();
    store = createStockStore({ redis: shared.redis, prefix, ttlSeconds: 3600, holdSeconds: HOLD_MS / 1000 });
    // Holds open, none due, the counters' lives long enough: the steady state.
    await store.setStock('a', 100);
    for (let i = 0; i < 3; i++) held(await store.reserve('a', 2));
  });

  const run = (lua: string, keys: string[], args: (string | number)[]) => shared.redis.eval(lua, keys.length, ...keys, ...args);

  it('a reservation that deducts', async () => {
    await copyItem(prefix, 'a', 'b');
    const nonce = 'quickGrantNonce0000000';
    const quick = await run(quickOnly('reserveHold'), stockKeys(prefix, 'a').holds, [5, nonce, HOLD_MS, RETENTION_MS, '', '']);
    const slow = await run(general.reserve, stockKeys(prefix, 'b').holds, [5, nonce, HOLD_MS, RETENTION_MS, '', '']);
    expect(quick).to.be.an('array').with.length(3);
    expect((quick as number[])[0]).to.equal(89);
    expect((slow as number[]).slice(0, 2)).to.deep.equal([89, 89]);
    expectSame(await snapshot(prefix, 'a'), await snapshot(prefix, 'b'));
  });

  it("a reservation counted toward its customer's limit, and one refused by it", async () => {
    held(await store.reserve('a', 1, undefined, { customer: 'alice', limit: 3 }));
    await copyItem(prefix, 'a', 'b');
    const who = customerDigest('alice');
    const args = (nonce: string) => [2, nonce, HOLD_MS, RETENTION_MS, who, 3];
    expect(await run(quickOnly('reserveHold'), stockKeys(prefix, 'a').holds, args('limitedNonce0000000000'))).to.be.an('array').with.length(3);
    await run(general.reserve, stockKeys(prefix, 'b').holds, args('limitedNonce0000000000'));
    expectSame(await snapshot(prefix, 'a'), await snapshot(prefix, 'b'));
    const quick = await run(quickOnly('reserveHold'), stockKeys(prefix, 'a').holds, args('overLimitNonce00000000'));
    const slow = await run(general.reserve, stockKeys(prefix, 'b').holds, args('overLimitNonce00000000'));
    expect(quick).to.deep.equal([-5, 3, 3]);
    expect(slow).to.deep.equal([-5, 3, 3, 0]);
    expectSame(await snapshot(prefix, 'a'), await snapshot(prefix, 'b'));
  });

  it('a refusal with nothing due', async () => {
    await store.setStock('a', 1);
    // The figure written anew: the quiet key is set by the next general call.
    expect(await store.reserve('a', 5)).to.deep.equal({ status: 'insufficient', available: 1 });
    await copyItem(prefix, 'a', 'b');
    const quick = await run(quickOnly('reserveHold'), stockKeys(prefix, 'a').holds, [5, 'quickRefusalNonce00000', HOLD_MS, RETENTION_MS, '', '']);
    const slow = await run(general.reserve, stockKeys(prefix, 'b').holds, [5, 'quickRefusalNonce00000', HOLD_MS, RETENTION_MS, '', '']);
    expect(quick).to.equal('1');
    expect(slow).to.deep.equal([-2, 1, 0, 0]);
    expectSame(await snapshot(prefix, 'a'), await snapshot(prefix, 'b'));
  });

  for (const [action, customer] of [
    ['prepare', undefined],
    ['commit', undefined],
    ['release', undefined],
    ['prepare', 'alice'],
    ['release', 'alice'],
  ] as const) {
    it(`a ${action}${customer ? ' of a hold counted toward its customer' : ''}`, async () => {
      const h = held(await store.reserve('a', 4, undefined, customer ? { customer, limit: 10 } : undefined));
      // A first commit stretches the records' life to the retention: the general path's work.
      const first = held(await store.reserve('a', 1));
      await store.commit(first.holdId);
      await copyItem(prefix, 'a', 'b');
      const nonce = h.holdId.split('.')[0] as string;
      const quick = await run(quickOnly('settleHold'), stockKeys(prefix, 'a').holds, [nonce, action, RETENTION_MS]);
      const slow = await run(general.settle, stockKeys(prefix, 'b').holds, [nonce, action, RETENTION_MS]);
      expect(quick).to.not.equal('general');
      expect(quick).to.deep.equal(slow);
      expectSame(await snapshot(prefix, 'a'), await snapshot(prefix, 'b'));
    });
  }

  it("a release that queues the item's first purge ticket (a retention shorter than the keys' life)", async () => {
    const h = held(await store.reserve('a', 4));
    await copyItem(prefix, 'a', 'b');
    const nonce = h.holdId.split('.')[0] as string;
    const quick = await run(quickOnly('settleHold'), stockKeys(prefix, 'a').holds, [nonce, 'release', 60_000]);
    const slow = await run(general.settle, stockKeys(prefix, 'b').holds, [nonce, 'release', 60_000]);
    expect(quick).to.deep.equal(['r', 1, 0]);
    expect(slow).to.deep.equal(quick);
    expectSame(await snapshot(prefix, 'a'), await snapshot(prefix, 'b'));
  });

  it('the quick paths step aside where the general path has work to do', async () => {
    // The first hold of an item moves the quiet key; a hold of an item with none due reaps nothing; here: none open.
    const empty = shared.prefix();
    const fresh = createStockStore({ redis: shared.redis, prefix: empty });
    await fresh.setStock('c', 10);
    const first = await run(quickOnly('reserveHold'), stockKeys(empty, 'c').holds, [1, 'firstHoldNonce00000000', HOLD_MS, RETENTION_MS, '', '']);
    expect(first).to.equal('general');
    // The last open hold's commit moves the quiet key too.
    const only = held(await fresh.reserve('c', 1));
    const last = await run(quickOnly('settleHold'), stockKeys(empty, 'c').holds, [only.holdId.split('.')[0] as string, 'commit', RETENTION_MS]);
    expect(last).to.equal('general');
  });
});
