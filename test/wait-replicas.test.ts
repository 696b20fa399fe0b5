/**
 * `waitReplicas`: after a reservation, a prepare, a commit or a cart, WAIT on
 * the item's master until that many replicas have the write. Runs on a
 * private master with one replica; WAITs are counted by the master itself
 * (INFO commandstats), since loopback replication is usually quick enough
 * for the replica to have a write even without one.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { createStockStore, stockKeys, type StockEvent, type StockStore } from '../lib';
import { RedisServer } from './helpers/redis-server';
import { uniquePrefix } from './helpers/redis';
import { sleep } from './helpers/wait';

describe('waitReplicas', function () {
  this.timeout(30_000);
  let master: RedisServer;
  let replica: RedisServer;
  let client: Redis;
  let replicaClient: Redis;

  before(async () => {
    master = await RedisServer.start();
    replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
    client = new Redis(master.url);
    replicaClient = new Redis(replica.url);
    for (let i = 0; i < 100 && !(await replicaClient.info('replication')).includes('master_link_status:up'); i++) await sleep(100);
  });

  after(async () => {
    client.disconnect();
    replicaClient.disconnect();
    await replica.dispose();
    await master.dispose();
  });

  function make(waitReplicas: number, waitTimeoutMs = 200): { store: StockStore; events: StockEvent[]; prefix: string } {
    const events: StockEvent[] = [];
    const prefix = uniquePrefix('wait');
    return { store: createStockStore({ redis: client, prefix, waitReplicas, waitTimeoutMs, onEvent: (e) => events.push(e) }), events, prefix };
  }

  /** How many WAITs the master has run, by its own count (INFO commandstats). */
  async function waits(): Promise<number> {
    const match = /cmdstat_wait:calls=(\d+)/.exec(await client.info('commandstats'));
    return match ? Number(match[1]) : 0;
  }

  it('waitReplicas 1: each reservation, prepare, commit and cart runs one WAIT on the master, and the replica has the write when it answers', async () => {
    // A generous timeout: on a loaded machine a short one could fall short and pause the waits.
    const { store, events, prefix } = make(1, 1500);
    const figureOnReplica = async (key: string) => replicaClient.get(stockKeys(prefix, key).stock);
    await store.setStock('sku', 50);
    let expected = await waits();
    const expectWaits = async (added: number, after: string) => {
      expected += added;
      expect(await waits(), `WAITs after ${after}`).to.equal(expected);
    };

    for (let i = 1; i <= 20; i++) {
      await store.reserve('sku', 1);
      await expectWaits(1, `reservation ${i}`);
      expect(await figureOnReplica('sku')).to.equal(String(50 - i));
    }
    // A reservation that loads the figure first.
    await store.reserve('cold', 2, () => 5);
    await expectWaits(1, 'a reservation that loaded its figure');
    expect(await figureOnReplica('cold')).to.equal('3');
    // A sold-out answer wrote nothing: nothing to wait for.
    expect(await store.reserve('sku', 100)).to.include({ status: 'insufficient' });
    await expectWaits(0, 'a sold-out answer');

    // Prepare and commit wait too: a failover must not lose them (the hold would expire and give back sold units).
    const held = await store.reserve('sku', 1);
    if (held.status !== 'reserved') throw new Error('not reserved');
    await expectWaits(1, 'the reservation to prepare');
    const holdsKey = stockKeys(prefix, 'sku').holds[1];
    const nonce = held.holdId.split('.')[0] as string;
    // A record starts with its state's letter (see lua/includes/records.lua): p prepared, c committed.
    const stateOnReplica = async () => (await replicaClient.hget(holdsKey, nonce))?.[0];
    await store.prepare(held.holdId);
    await expectWaits(1, 'the prepare');
    expect(await stateOnReplica()).to.equal('p');
    await store.commit(held.holdId);
    await expectWaits(1, 'the commit');
    expect(await stateOnReplica()).to.equal('c');

    // A cart of two items on one node: one script, one WAIT for the whole cart.
    const cart = await store.reserveCart([{ key: 'sku', qty: 2 }, { key: 'cold', qty: 1 }]);
    expect(cart.status).to.equal('reserved');
    await expectWaits(1, 'the cart');
    expect(await figureOnReplica('sku')).to.equal('27');
    expect(await figureOnReplica('cold')).to.equal('2');
    expect(events.filter((e) => e.type === 'error')).to.deep.equal([]);
  });

  it('waitReplicas 0 (the default): no WAIT at all', async () => {
    const { store } = make(0);
    await store.setStock('sku', 10);
    const before = await waits();
    const held = await store.reserve('sku', 1);
    if (held.status !== 'reserved') throw new Error('not reserved');
    await store.prepare(held.holdId);
    await store.commit(held.holdId);
    await store.reserveCart([{ key: 'sku', qty: 1 }]);
    expect(await waits()).to.equal(before);
  });

  it('more replicas than there are: the reservation stands, an error event says so, and WAIT pauses on that master for 1 s', async () => {
    const { store, events } = make(2);
    await store.setStock('sku', 50);
    const before = await waits();
    const result = await store.reserve('sku', 2);
    expect(result).to.include({ status: 'reserved', remaining: 48 });
    const errors = () => events.filter((e) => e.type === 'error');
    expect(errors()).to.have.length(1);
    expect(errors()[0]).to.include({ operation: 'replicate', key: 'sku' });
    expect((errors()[0] as { error: Error }).error.message).to.equal(
      'Only 1 of 2 replicas had the write within 200 ms; not waiting on this master for 1000 ms',
    );
    // Within the pause: reservations go on without a WAIT (which would hold up the connection), and no more events.
    for (let i = 0; i < 10; i++) await store.reserve('sku', 1);
    expect(await waits()).to.equal(before + 1);
    expect(errors()).to.have.length(1);
    // A sold-out answer wrote nothing: no WAIT either.
    expect(await store.reserve('sku', 100)).to.deep.equal({ status: 'insufficient', available: 38 });
    // After the pause it waits again (and falls short again).
    await sleep(1100);
    await store.reserve('sku', 1);
    expect(await waits()).to.equal(before + 2);
    expect(errors()).to.have.length(2);
  });

  it('setup: waitTimeoutMs must stay below timeoutMs', () => {
    expect(() => createStockStore({ redis: client, waitReplicas: 1, waitTimeoutMs: 2000, timeoutMs: 2000 }))
      .to.throw()
      .with.property('code', 'ERR_RESERVE_STOCK_OPTION');
  });
});
