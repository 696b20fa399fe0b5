/**
 * Settling holds: commit, release and expiry racing each other (exactly one
 * wins, units back at most once), extend (while open it moves the expiry;
 * after expiry, commit or release it says so and changes nothing), and
 * getHolds (the open holds and the units they keep).
 */
import { expect } from 'chai';
import {
  createStockStore,
  stockKeys,
  type ExtendResult,
  type SettleResult,
  type StockStore,
} from '../lib';
import { EventLog } from './helpers/events';
import { expectExpiry, withoutHold, held, type Held, sleepPast } from './helpers/holds';
import { keysWithPrefix, useSharedRedis } from './helpers/redis';
import { sleep } from './helpers/wait';

const shared = useSharedRedis('holds-set');

/** Stores on `n` connections of their own, sharing one prefix, each with its event log. */
function stores(n: number, options: { holdSeconds?: number } = {}) {
  const prefix = shared.prefix();
  const logs = Array.from({ length: n }, () => new EventLog());
  const list = logs.map((log) => createStockStore({ redis: shared.client(), prefix, onEvent: log.onEvent, ...options }));
  const events = <T extends 'committed' | 'released' | 'expired'>(type: T) => logs.flatMap((log) => log.of(type));
  return { prefix, stores: list, store: list[0] as StockStore, logs, events };
}

describe('holds: commit, release and expiry race; exactly one wins', function () {
  this.timeout(60_000);

  it('many concurrent commits and releases of the same holds, from three connections', async () => {
    const { stores: list, store, events } = stores(3);
    const INITIAL = 1000;
    await store.setStock('sku', INITIAL);
    const holds = await Promise.all(Array.from({ length: 30 }, (_, i) => store.reserve('sku', (i % 3) + 1).then(held)));
    const taken = holds.reduce((sum, h, i) => sum + ((i % 3) + 1), 0);
    expect(await store.getStock('sku')).to.equal(INITIAL - taken);

    // 20 commits and 20 releases per hold, interleaved, all at once.
    const calls: { hold: number; action: 'commit' | 'release'; result: Promise<SettleResult> }[] = [];
    for (let round = 0; round < 40; round++) {
      for (const [i, h] of holds.entries()) {
        const action = (round + i) % 2 ? 'commit' : 'release';
        const s = list[(round + i) % 3] as StockStore;
        calls.push({ hold: i, action, result: s[action](h.holdId) });
      }
    }
    const results = await Promise.all(calls.map((c) => c.result));

    let committedUnits = 0;
    for (const [i, h] of holds.entries()) {
      const mine = results.filter((_, k) => calls[k]?.hold === i);
      const winners = mine.filter((r) => r.changed);
      expect(winners, `hold ${i}: one winner`).to.have.length(1);
      const state = winners[0]?.state;
      expect(['committed', 'released']).to.include(state);
      // Every call, before or after the winner's, reports the winner's state.
      expect(new Set(mine.map((r) => r.state)), `hold ${i}`).to.deep.equal(new Set([state]));
      // The winning call's action is the state it reports.
      const winnerCall = calls.find((c, k) => c.hold === i && results[k]?.changed);
      expect(winnerCall?.action === 'commit' ? 'committed' : 'released').to.equal(state);
      if (state === 'committed') committedUnits += (i % 3) + 1;
      expect(h.holdId).to.be.a('string');
    }
    // Released units came back exactly once, committed ones not at all.
    expect(await store.getStock('sku')).to.equal(INITIAL - committedUnits);
    expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
    const settledIds = [...events('committed'), ...events('released')].map((e) => e.holdId);
    expect(settledIds).to.have.length(holds.length);
    expect(new Set(settledIds)).to.deep.equal(new Set(holds.map((h) => h.holdId)));
  });

  it('commits, releases and extends landing right at expiry: one of commit, release, expiry wins', async () => {
    const { stores: list, store, events } = stores(3);
    const INITIAL = 500;
    const HOLDS = 30;
    await store.setStock('sku', INITIAL);
    const holds = await Promise.all(
      Array.from({ length: HOLDS }, (_, i) => store.reserve('sku', (i % 4) + 1, undefined, { holdSeconds: 1 }).then(held)),
    );
    const qtyOf = (i: number) => (i % 4) + 1;

    // Per hold, 12 calls 8 ms apart, the first one (by group of holds) well
    // before its expiry, within 20 ms of it either way, or just after it.
    const starts = [-300, -20, 5];
    type Call = { hold: number; action: 'commit' | 'release' | 'extend'; result: Promise<SettleResult | ExtendResult> };
    const calls: Call[] = [];
    const timers: Promise<void>[] = [];
    for (const [i, h] of holds.entries()) {
      const first = (starts[i % 3] as number) + (i % 3 === 1 ? (i * 7) % 41 : 0);
      for (let n = 0, offset = first; n < 12; n++, offset += 8) {
        const action = (['commit', 'release', 'extend'] as const)[(i + n) % 3] as Call['action'];
        const s = list[(i + n) % 3] as StockStore;
        timers.push(
          sleep(Math.max(0, h.expiresAt + offset - Date.now())).then(() => {
            calls.push({ hold: i, action, result: action === 'extend' ? s.extend(h.holdId, 1) : s[action](h.holdId) });
          }),
        );
      }
    }
    await Promise.all(timers);
    const results = await Promise.all(calls.map((c) => c.result));

    // Let any hold an extend kept open expire, then read (which reaps it).
    const lastExtended = Math.max(0, ...results.map((r) => ('expiresAt' in r && r.expiresAt) || 0));
    await sleepPast(lastExtended);
    expect(await store.getHolds('sku')).to.deep.equal({ key: 'sku', count: 0, units: 0, inDoubt: 0, holds: [] });

    let committedUnits = 0;
    let expired = 0;
    const outcomes = { committed: 0, released: 0, expired: 0 };
    for (const [i, h] of holds.entries()) {
      const mine = calls.flatMap((c, k) => (c.hold === i && c.action !== 'extend' ? [results[k] as SettleResult] : []));
      const winners = mine.filter((r) => r.changed);
      expect(winners.length, `hold ${i}: at most one settling call wins`).to.be.at.most(1);
      // The state now, asked once more (it changes nothing).
      const final = await store.release(h.holdId);
      expect(final.changed, `hold ${i}: nothing left to settle`).to.equal(false);
      if (winners.length === 1) {
        expect(final.state, `hold ${i}`).to.equal(winners[0]?.state);
      } else {
        expect(final.state, `hold ${i}: no call won, so expiry did`).to.equal('expired');
        expired++;
      }
      outcomes[final.state as keyof typeof outcomes]++;
      if (final.state === 'committed') committedUnits += qtyOf(i);
      // Once settled, every later call saw the settled state, never 'held'.
      const settledAt = mine.findIndex((r) => r.state !== 'held');
      for (const r of mine.slice(settledAt)) expect(r.state, `hold ${i}`).to.equal(final.state);
    }
    // Units back at most once: only the committed ones are gone.
    expect(await store.getStock('sku')).to.equal(INITIAL - committedUnits);
    expect(events('expired').reduce((sum, e) => sum + e.holds, 0), 'expired events').to.equal(expired);
    expect(events('committed').length, 'committed events').to.equal(outcomes.committed);
    expect(events('released').length, 'released events').to.equal(outcomes.released);
    expect(outcomes.committed + outcomes.released + outcomes.expired).to.equal(HOLDS);
    // The holds whose first call came after their expiry went to expiry; those
    // called well before to a commit or release: both sides were really in the race.
    expect(outcomes.expired, JSON.stringify(outcomes)).to.be.at.least(HOLDS / 3);
    expect(outcomes.committed + outcomes.released, JSON.stringify(outcomes)).to.be.at.least(1);
  });

  it('release racing expiry on the same hold, many times over: the units come back once per hold', async () => {
    const { stores: list, store, events } = stores(3);
    await store.setStock('sku', 100);
    for (let round = 0; round < 5; round++) {
      const h = held(await store.reserve('sku', 7, undefined, { holdSeconds: 1 }));
      expect(await store.getStock('sku')).to.equal(93);
      await sleep(Math.max(0, h.expiresAt - Date.now() - 20));
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => (i % 2 ? (list[i % 3] as StockStore).release(h.holdId) : (list[i % 3] as StockStore).getStock('sku'))),
      );
      const released = results.filter((r): r is SettleResult => typeof r === 'object' && r !== null && r.changed);
      expect(released.length).to.be.at.most(1);
      await sleepPast(h.expiresAt);
      expect(await store.getStock('sku'), `round ${round}`).to.equal(100);
    }
    expect(events('released').length + events('expired').reduce((s, e) => s + e.holds, 0)).to.equal(5);
  });
});

describe('holds: extend', function () {
  this.timeout(30_000);

  it('while open: moves the expiry (never earlier), and the hold outlives its first deadline', async () => {
    const { store, events } = stores(1);
    await store.setStock('sku', 10);
    const h = held(await store.reserve('sku', 4, undefined, { holdSeconds: 1 }));
    const extended = await store.extend(h.holdId, 3);
    expect(extended.state).to.equal('held');
    expectExpiry(extended.expiresAt, 3, 2000);
    expect(extended.expiresAt).to.be.above(h.expiresAt);
    expect((await store.getHolds('sku')).holds).to.deep.equal([{ holdId: h.holdId, qty: 4, expiresAt: extended.expiresAt, state: 'held' }]);
    // A shorter extension leaves the later expiry as it is.
    expect(await store.extend(h.holdId, 1)).to.deep.equal({ state: 'held', expiresAt: extended.expiresAt });

    await sleepPast(h.expiresAt, 300);
    expect(await store.getStock('sku'), 'past the first deadline, still held').to.equal(6);
    expect(events('expired')).to.deep.equal([]);
    await sleepPast(extended.expiresAt as number);
    expect(await store.getStock('sku')).to.equal(10);
    expect(events('expired')).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);
  });

  it('an extended hold can still be committed or released once', async () => {
    const { store } = stores(1);
    await store.setStock('sku', 10);
    const a = held(await store.reserve('sku', 2));
    const b = held(await store.reserve('sku', 3));
    expect((await store.extend(a.holdId, 3600)).state).to.equal('held');
    expect((await store.extend(b.holdId, 3600)).state).to.equal('held');
    expect(await store.commit(a.holdId)).to.deep.equal({ state: 'committed', changed: true });
    expect(await store.release(b.holdId)).to.deep.equal({ state: 'released', changed: true });
    expect(await store.getStock('sku')).to.equal(8);
  });

  it('stretches the figure (and the hold keys) to outlive the hold, by a quarter more', async () => {
    const { prefix, store } = stores(1);
    const [figure, holds] = stockKeys(prefix, 'sku').holds;
    await store.setStock('sku', 10, 60);
    const h = held(await store.reserve('sku', 1, undefined, { holdSeconds: 30 }));
    expect(await shared.redis.pttl(figure)).to.be.within(50_000, 60_000);
    await store.extend(h.holdId, 600);
    expect(await shared.redis.pttl(figure)).to.be.within(590_000, 750_000);
    expect(await shared.redis.pttl(holds)).to.be.at.least(await shared.redis.pttl(figure));
  });

  for (const end of ['committed', 'released', 'expired'] as const) {
    it(`after the hold was ${end}: says so and changes nothing`, async () => {
      const { prefix, store, logs } = stores(1);
      await store.setStock('sku', 10);
      const h = held(await store.reserve('sku', 4, undefined, { holdSeconds: 1 }));
      if (end === 'committed') await store.commit(h.holdId);
      else if (end === 'released') await store.release(h.holdId);
      else await sleepPast(h.expiresAt);
      const figureBefore = await store.getStock('sku');
      expect(figureBefore).to.equal(end === 'committed' ? 6 : 10);
      const keysBefore = await keysWithPrefix(shared.redis, prefix);
      const recordBefore = await shared.redis.hgetall(stockKeys(prefix, 'sku').holds[3]);
      const eventsBefore = logs[0]?.events.length;

      expect(await store.extend(h.holdId, 600)).to.deep.equal({ state: end, expiresAt: null });
      expect(await store.extend(h.holdId, 1)).to.deep.equal({ state: end, expiresAt: null });
      expect(await store.getStock('sku')).to.equal(figureBefore);
      expect(await store.getHolds('sku')).to.deep.equal({ key: 'sku', count: 0, units: 0, inDoubt: 0, holds: [] });
      expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal(keysBefore);
      expect(await shared.redis.hgetall(stockKeys(prefix, 'sku').holds[3])).to.deep.equal(recordBefore);
      expect(logs[0]?.events.length).to.equal(eventsBefore);
      // Still settled as it was: a later commit or release changes nothing either.
      expect(await store.commit(h.holdId)).to.deep.equal({ state: end, changed: false });
      expect(await store.release(h.holdId)).to.deep.equal({ state: end, changed: false });
      expect(await store.getStock('sku')).to.equal(figureBefore);
    });
  }
});

describe('holds: getHolds', () => {
  it('an item with no holds (or no figure): nothing open, and nothing written', async () => {
    const { prefix, store } = stores(1);
    expect(await store.getHolds('sku')).to.deep.equal({ key: 'sku', count: 0, units: 0, inDoubt: 0, holds: [] });
    expect(await keysWithPrefix(shared.redis, prefix)).to.deep.equal([]);
  });

  it('lists the open holds (id, units, expiry), soonest first, and the units they keep', async () => {
    const { store } = stores(1);
    await store.setStock('sku', 20);
    const a = held(await store.reserve('sku', 2, undefined, { holdSeconds: 300 }));
    const b = held(await store.reserve('sku', 5, undefined, { holdSeconds: 100 }));
    const c = held(await store.reserve('sku', 1, undefined, { holdSeconds: 200 }));
    expect(await store.reserve('sku', 13)).to.deep.equal({ status: 'insufficient', available: 12 });
    const entry = (h: Held, qty: number) => ({ holdId: h.holdId, qty, expiresAt: h.expiresAt, state: 'held' });
    expect(await store.getHolds('sku')).to.deep.equal({
      key: 'sku',
      count: 3,
      units: 8,
      inDoubt: 0,
      holds: [entry(b, 5), entry(c, 1), entry(a, 2)],
    });
    await store.commit(b.holdId);
    await store.release(c.holdId);
    expect(await store.getHolds('sku')).to.deep.equal({ key: 'sku', count: 1, units: 2, inDoubt: 0, holds: [entry(a, 2)] });
    expect(await store.getStock('sku')).to.equal(13);
  });

  it('unlimited stock: holds of 0 units', async () => {
    const { store } = stores(1);
    await store.setStock('free', -1);
    const r = await store.reserve('free', 50);
    expect(withoutHold(r, 'free')).to.deep.equal({ status: 'unlimited' });
    if (r.status !== 'unlimited') throw new Error('not unlimited');
    expect(await store.getHolds('free')).to.deep.equal({
      key: 'free',
      count: 1,
      units: 0,
      inDoubt: 0,
      holds: [{ holdId: r.holdId, qty: 0, expiresAt: r.expiresAt, state: 'held' }],
    });
  });

  it('hold ids of awkward item names come back as they were given', async () => {
    const { store } = stores(1);
    for (const name of ['{a}:b%', 'ünï cødé', 'a.b.c', '-_=']) {
      await store.setStock(name, 3);
      const h = held(await store.reserve(name, 1));
      expect((await store.getHolds(name)).holds, name).to.deep.equal([{ holdId: h.holdId, qty: 1, expiresAt: h.expiresAt, state: 'held' }]);
      expect(await store.release(h.holdId), name).to.deep.equal({ state: 'released', changed: true });
      expect(await store.getStock(name), name).to.equal(3);
    }
  });

  it('expired holds are not listed: reading reaps them', async () => {
    const { store, events } = stores(1);
    await store.setStock('sku', 5);
    const h = held(await store.reserve('sku', 2, undefined, { holdSeconds: 1 }));
    await sleepPast(h.expiresAt);
    expect(await store.getHolds('sku')).to.deep.equal({ key: 'sku', count: 0, units: 0, inDoubt: 0, holds: [] });
    expect(events('expired')).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);
    expect(await store.getStock('sku')).to.equal(5);
  });
});

describe('holds: retention of settled records', () => {
  it('a settled hold is remembered for retentionSeconds, then forgotten: its record leaves Redis', async () => {
    const prefix = shared.prefix();
    const store = createStockStore({ redis: shared.redis, prefix, retentionSeconds: 1 });
    await store.setStock('sku', 5);
    const committed = await store.reserve('sku', 2);
    const released = await store.reserve('sku', 1);
    if (committed.status !== 'reserved' || released.status !== 'reserved') throw new Error('not reserved');
    await store.commit(committed.holdId);
    await store.release(released.holdId);
    // Within retention a resend is recognised.
    expect(await store.commit(committed.holdId)).to.deep.equal({ state: 'committed', changed: false });
    const [, holds, , , purge] = stockKeys(prefix, 'sku').holds;
    const records = async () => (await shared.redis.hkeys(holds)).filter((field) => !field.startsWith('#'));
    expect(await records()).to.have.length(2);
    await sleep(1100);
    // Reads purge records whose retention is over; units are untouched.
    expect(await store.getStock('sku')).to.equal(3);
    expect(await records()).to.deep.equal([]);
    expect(await shared.redis.exists(purge)).to.equal(0);
    expect(await store.commit(committed.holdId)).to.deep.equal({ state: 'unknown', changed: false });
    expect(await store.release(released.holdId)).to.deep.equal({ state: 'unknown', changed: false });
    expect(await store.getStock('sku')).to.equal(3);
  });
});
