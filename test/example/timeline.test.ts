import { expect } from 'chai';
import request from 'supertest';
import { countAnswers } from '../../example/dashboard/feed';
import { SaleTimeline } from '../../example/dashboard/timeline';
import { express, listen } from '../helpers/app';

/** A timeline on a clock the test moves. */
function timelineAt(startMs: number, seconds = 300, maxProducts = 20) {
  const clock = { now: startMs };
  return { clock, timeline: new SaleTimeline(seconds, maxProducts, () => clock.now) };
}

describe('example dashboard: the sale timeline', () => {
  it('counts each second apart and keeps the last stock figure of a second', () => {
    const { clock, timeline } = timelineAt(1_000_000);
    timeline.count('sales');
    timeline.count('sales');
    timeline.stock('mug', 5);
    timeline.stock('mug', 3);
    clock.now += 1000;
    timeline.count('soldOut');
    timeline.count('unavailable');
    expect(timeline.window()).to.deep.equal({
      now: 1001,
      seconds: 300,
      buckets: [
        { t: 1000, sales: 2, soldOut: 0, unavailable: 0, stock: { mug: 3 } },
        { t: 1001, sales: 0, soldOut: 1, unavailable: 1, stock: {} },
      ],
    });
  });

  it('forgets seconds and products older than its window', () => {
    const { clock, timeline } = timelineAt(1_000_000, 10);
    timeline.stock('mug', 1);
    clock.now += 9000;
    timeline.count('sales');
    expect(timeline.products()).to.deep.equal(['mug']);
    expect(timeline.window().buckets.map((b) => b.t)).to.deep.equal([1000, 1009]);
    clock.now += 1000;
    expect(timeline.products()).to.deep.equal([]);
    expect(timeline.window().buckets.map((b) => b.t)).to.deep.equal([1009]);
  });

  it('follows at most maxProducts products, and never unlimited stock', () => {
    const { timeline } = timelineAt(1_000_000, 300, 2);
    timeline.stock('a', 1);
    timeline.stock('b', 1);
    timeline.stock('c', 1);
    timeline.stock('a', 0);
    timeline.stock('ebook', -1);
    expect(timeline.products()).to.deep.equal(['a', 'b']);
    expect(timeline.window().buckets[0]?.stock).to.deep.equal({ a: 0, b: 1 });
  });

  it('countAnswers: a 201 or 409 of POST /orders or POST /carts/checkout, and a 503 of any route', async () => {
    const { timeline } = timelineAt(1_000_000);
    const app = express();
    app.use(countAnswers(timeline));
    app.all('/{*path}', (req, res) => {
      res.sendStatus(Number(req.query.status));
    });
    const server = await listen(app);
    try {
      for (const [method, path, status] of [
        ['post', '/orders', 201],
        ['post', '/orders', 201],
        ['post', '/orders', 409],
        ['post', '/orders', 402],
        ['post', '/products', 201],
        ['post', '/products', 409],
        ['get', '/orders', 201],
        ['get', '/products', 503],
        ['post', '/orders', 503],
        ['post', '/carts/checkout', 201],
        ['post', '/carts/checkout', 409],
        ['post', '/carts/checkout', 402],
        ['get', '/carts/checkout', 409],
      ] as const) {
        await request(server.url)[method](`${path}?status=${status}`).expect(status);
      }
    } finally {
      await server.close();
    }
    const [bucket] = timeline.window().buckets;
    expect(bucket).to.deep.include({ sales: 3, soldOut: 2, unavailable: 2 });
  });
});
