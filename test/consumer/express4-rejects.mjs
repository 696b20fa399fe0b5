// The README's app without its try/catch, on Express 4: an order handler
// whose promise rejects. Run by test/consumer.test.ts.
import express from 'express';
import { Redis } from 'ioredis';
import { createStockStore, reserveStock } from 'reserve-stock';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const store = createStockStore({ redis, prefix: process.env.PREFIX });
const app = express();
app.post('/orders', reserveStock({ store, key: 'tee', qty: 2, loader: () => 5 }), async () => {
  throw new Error('the database is down');
});
app.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
