/**
 * The commands a store sends in one turn of the event loop share a socket
 * write, the turn's first going at once (lib/store/coalesced-writes.ts), and
 * each still gets its own answer: counted at the client's sockets, where Node hands data to the
 * kernel (`_write` for one chunk, `_writev` for several).
 */
import { expect } from 'chai';
import { createStockStore } from '../lib';
import { socketsOf } from '../lib/store/coalesced-writes';
import { held } from './helpers/holds';
import { useSharedRedis, type AnyRedis } from './helpers/redis';

const shared = useSharedRedis('coalesce');

/** Counts from now on the writes the client's sockets hand to the kernel. */
function countSocketWrites(redis: AnyRedis): () => number {
  let writes = 0;
  for (const socket of socketsOf(redis)) {
    const target = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
    for (const method of ['_write', '_writev'] as const) {
      const original = target[method].bind(socket);
      target[method] = (...args: unknown[]) => {
        writes++;
        return original(...args);
      };
    }
  }
  return () => writes;
}

describe('coalesced writes: the commands of one turn share a socket write', () => {
  it('100 reservations sent in one turn go out in two writes (the first at once), and each is answered as its own', async () => {
    const redis = shared.client(); // its own client: nothing else writes on it
    const store = createStockStore({ redis, prefix: shared.prefix() });
    await store.setStock('sku', 1000);
    const writes = countSocketWrites(redis);
    const answers = (await Promise.all(Array.from({ length: 100 }, () => store.reserve('sku', 1)))).map(held);
    expect(writes()).to.equal(2);
    expect(new Set(answers.map((a) => a.holdId)).size).to.equal(100);
    expect(answers.map((a) => a.remaining).sort((a, b) => b - a)).to.deep.equal(Array.from({ length: 100 }, (_, i) => 999 - i));
    expect(await store.getStock('sku')).to.equal(900);
  });

  it('a command sent in a later turn has a write of its own', async () => {
    const redis = shared.client();
    const store = createStockStore({ redis, prefix: shared.prefix() });
    await store.setStock('sku', 10);
    const writes = countSocketWrites(redis);
    const first = held(await store.reserve('sku', 1));
    await store.commit(first.holdId);
    expect(writes()).to.equal(2);
  });

  it('the commits of the answers one reply brings go out together', async () => {
    const redis = shared.client();
    const store = createStockStore({ redis, prefix: shared.prefix() });
    await store.setStock('sku', 100);
    const writes = countSocketWrites(redis);
    const settled = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const { holdId } = held(await store.reserve('sku', 1));
        return i % 2 ? store.commit(holdId) : store.release(holdId);
      }),
    );
    expect(settled.every((s) => s.changed)).to.equal(true);
    expect(await store.getStock('sku')).to.equal(90);
    // The reservations in two writes; their answers arrive together (in one
    // turn, or a few when the kernel splits the reply), each turn's settles
    // in two writes.
    expect(writes()).to.be.within(4, 8);
  });
});
