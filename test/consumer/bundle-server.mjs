// A small shop server that test/bundle.test.ts bundles with esbuild into one
// file and runs where no node_modules are.
import express from 'express';
import { Redis } from 'ioredis';
import { createStockStore, itemReservation, reserveStock } from 'reserve-stock';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const store = createStockStore({ redis, prefix: process.env.PREFIX });
const app = express();
app.post('/orders', reserveStock({ store, key: 'tee', loader: () => 1 }), (req, res) => {
  res.status(201).json({ holdId: itemReservation(req).holdId });
});
const server = app.listen(0, '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
