/**
 * Expiry: a hold nobody commits or releases within holdSeconds gives its
 * units back by itself (no timer, no live process needed: the next script on
 * the item reaps it), exactly once, and can then be neither committed,
 * released nor extended. Holds made by a second process that exits or is
 * SIGKILLed come back all the same.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { expect } from 'chai';
import { createStockStore, type StockStore } from '../lib';
import { EventLog } from './helpers/events';
import { startFixture } from './helpers/fixture-process';
import { expectHoldId, withoutHold, sleepPast } from './helpers/holds';
import { REDIS_URL, useSharedRedis } from './helpers/redis';
import { sleep } from './helpers/wait';

const shared = useSharedRedis('holds-exp');

/** Sleeps until `ms` (Date.now() time; the shared Redis runs on this machine) plus a margin. */
function expiredCount(...logs: EventLog[]): number {
  return logs.flatMap((log) => log.of('expired')).reduce((sum, e) => sum + e.holds, 0);
}

interface MadeHolds {
  pid: number;
  holds: { holdId: string; expiresAt: number; remaining: number }[];
}

/** Starts test/fixtures/hold-maker.ts and waits for the holds it made. */
async function holdMaker(env: Record<string, string>): Promise<{ child: ChildProcessWithoutNullStreams; made: MadeHolds; exited: Promise<number | null> }> {
  const maker = startFixture('hold-maker.ts', { REDIS_URL, ...env });
  children.push(maker.child);
  await maker.waitForOutput('\n', 'the hold maker to report its holds');
  const { child, stdout, exited } = maker;
  return { child, made: JSON.parse(stdout.slice(0, stdout.indexOf('\n'))) as MadeHolds, exited };
}

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('holds: expiry', function () {
  this.timeout(60_000);

  it('a hold not settled within holdSeconds gives its units back by itself, exactly once', async () => {
    const prefix = shared.prefix();
    const logs = [new EventLog(), new EventLog(), new EventLog()];
    // Three processes' worth of stores, each on its own connection.
    const stores = logs.map((log) => createStockStore({ redis: shared.client(), prefix, holdSeconds: 1, onEvent: log.onEvent }));
    const [store] = stores as [StockStore];
    await store.setStock('sku', 10);
    const held = await store.reserve('sku', 3);
    expect(withoutHold(held, 'sku', 1)).to.deep.equal({ status: 'reserved', remaining: 7 });
    if (held.status !== 'reserved') throw new Error('not reserved');
    expect(await store.getHolds('sku')).to.deep.equal({
      key: 'sku',
      count: 1,
      units: 3,
      inDoubt: 0,
      holds: [{ holdId: held.holdId, qty: 3, expiresAt: held.expiresAt, state: 'held' }],
    });

    // Before its time it keeps its units.
    await sleep(400);
    expect(await store.getStock('sku')).to.equal(7);
    expect(expiredCount(...logs)).to.equal(0);

    // After it, every caller at once: the units come back once.
    await sleepPast(held.expiresAt);
    const seen = await Promise.all(Array.from({ length: 60 }, (_, i) => (stores[i % 3] as StockStore).getStock('sku')));
    expect(new Set(seen)).to.deep.equal(new Set([10]));
    expect(expiredCount(...logs)).to.equal(1);
    expect(logs.flatMap((log) => log.of('expired'))).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);
    expect(await store.getHolds('sku')).to.deep.equal({ key: 'sku', count: 0, units: 0, inDoubt: 0, holds: [] });

    // Expired: it cannot be committed, released or extended, and nothing moves.
    expect(await store.commit(held.holdId)).to.deep.equal({ state: 'expired', changed: false });
    expect(await store.release(held.holdId)).to.deep.equal({ state: 'expired', changed: false });
    expect(await store.extend(held.holdId, 60)).to.deep.equal({ state: 'expired', expiresAt: null });
    expect(await store.getStock('sku')).to.equal(10);
    // A resent reservation under the same id answers as before and takes nothing.
    expect(await store.reserve('sku', 3, undefined, { holdId: held.holdId })).to.deep.equal(held);
    expect(await store.getStock('sku')).to.equal(10);
    // The units are there to sell again, every one of them.
    expect(withoutHold(await store.reserve('sku', 10), 'sku', 1)).to.deep.equal({ status: 'reserved', remaining: 0 });
    expect(expiredCount(...logs)).to.equal(1);
    expect(logs.reduce((n, log) => n + log.count('released') + log.count('committed'), 0)).to.equal(0);
  });

  it('per-call holdSeconds: only the short hold expires; a reservation is what reaps it', async () => {
    const prefix = shared.prefix();
    const log = new EventLog();
    const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent });
    await store.setStock('sku', 10);
    const short = await store.reserve('sku', 4, undefined, { holdSeconds: 1 });
    const long = await store.reserve('sku', 5);
    expect(withoutHold(short, 'sku', 1)).to.deep.equal({ status: 'reserved', remaining: 6 });
    expect(withoutHold(long, 'sku')).to.deep.equal({ status: 'reserved', remaining: 1 });
    if (short.status !== 'reserved' || long.status !== 'reserved') throw new Error('not reserved');
    await sleepPast(short.expiresAt);
    // No read first: the reservation itself finds the 4 units back.
    expect(withoutHold(await store.reserve('sku', 5), 'sku')).to.deep.equal({ status: 'reserved', remaining: 0 });
    expect(log.of('expired')).to.deep.equal([{ type: 'expired', key: 'sku', holds: 1 }]);
    const holds = await store.getHolds('sku');
    expect(holds).to.deep.include({ count: 2, units: 10 });
    expect(holds.holds.map((h) => h.holdId)).to.include(long.holdId).and.not.include(short.holdId);
  });

  /** 250 holds of one unit each, all due: the whole stock is held, then nothing is. */
  async function manyDue(): Promise<{ store: StockStore; log: EventLog; count: number }> {
    const prefix = shared.prefix();
    const log = new EventLog();
    const store = createStockStore({ redis: shared.redis, prefix, holdSeconds: 1, onEvent: log.onEvent });
    const count = 250;
    await store.setStock('sku', count);
    const results = await Promise.all(Array.from({ length: count }, () => store.reserve('sku', 1)));
    expect(results.every((r) => r.status === 'reserved')).to.equal(true);
    expect(await store.getHolds('sku')).to.deep.include({ count, units: count });
    await sleepPast(Math.max(...results.map((r) => (r.status === 'reserved' ? r.expiresAt : 0))));
    return { store, log, count };
  }

  it('hundreds of holds due at once: the next read finds every unit back', async () => {
    const { store, log, count } = await manyDue();
    expect(await store.getStock('sku')).to.equal(count);
    expect(await store.getHolds('sku')).to.deep.include({ count: 0, units: 0 });
    expect(log.of('expired').reduce((sum, e) => sum + e.holds, 0)).to.equal(count);
  });

  it('hundreds of holds due at once: the next reservation can take every unit', async () => {
    const { store, count } = await manyDue();
    expect(withoutHold(await store.reserve('sku', count), 'sku', 1)).to.deep.equal({ status: 'reserved', remaining: 0 });
  });

  for (const mode of ['exit', 'hang'] as const) {
    const how = mode === 'exit' ? 'exits at once (no quit, no settle)' : 'is SIGKILLed while holding its connection';
    it(`holds made by a process that ${how} come back by themselves, once`, async () => {
      const prefix = shared.prefix();
      const log = new EventLog();
      const store = createStockStore({ redis: shared.redis, prefix, onEvent: log.onEvent });
      await store.setStock('sku', 10);
      const { child, made, exited } = await holdMaker({
        PREFIX: prefix,
        KEY: 'sku',
        COUNT: '5',
        QTY: '2',
        HOLD_SECONDS: '2',
        MODE: mode,
      });
      expect(made.holds).to.have.length(5);
      for (const h of made.holds) expectHoldId(h.holdId, 'sku');
      expect(made.holds.map((h) => h.remaining).sort((a, b) => a - b)).to.deep.equal([0, 2, 4, 6, 8]);

      if (mode === 'exit') {
        expect(await exited).to.equal(0);
      } else {
        expect(child.exitCode).to.equal(null);
        child.kill('SIGKILL');
        await exited;
        expect(child.signalCode).to.equal('SIGKILL');
      }
      // The process is gone; its holds still keep their units until their time.
      const open = await store.getHolds('sku');
      const ids = made.holds.map((h) => h.holdId).sort();
      expect(open).to.deep.include({ count: 5, units: 10 });
      expect(open.holds.map((h) => h.holdId).sort()).to.deep.equal(ids);
      expect(await store.reserve('sku', 1)).to.deep.equal({ status: 'insufficient', available: 0 });
      expect(log.count('expired')).to.equal(0);

      await sleepPast(Math.max(...made.holds.map((h) => h.expiresAt)));
      // Nobody settled anything: the next reservation finds every unit back.
      expect(withoutHold(await store.reserve('sku', 10), 'sku')).to.deep.equal({ status: 'reserved', remaining: 0 });
      expect(log.of('expired').reduce((sum, e) => sum + e.holds, 0)).to.equal(5);
      for (const id of ids) {
        expect(await store.release(id)).to.deep.equal({ state: 'expired', changed: false });
        expect(await store.commit(id)).to.deep.equal({ state: 'expired', changed: false });
      }
      expect(await store.getStock('sku')).to.equal(0);
      expect(log.count('released') + log.count('committed')).to.equal(0);
    });
  }
});
