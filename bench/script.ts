/**
 * The script scenario (issue 13): what the hold scripts cost Redis beside
 * the article's one-liner (./seed-script.ts), and what a shop's Redis keeps
 * per hold, per settled record and per idempotency record. On a private
 * redis-server, so that its figures are this scenario's alone (run before the
 * machine's other work where the bench may: see test/helpers/ping-poller.ts):
 *
 * - Redis-side µs per call of each path, from `INFO commandstats`
 *   (`usec_per_call` of EVALSHA, `CONFIG RESETSTAT` before each
 *   measurement; the calls counted must be exactly the path's): the
 *   article's script deducting and sold out; reserveHold-6 deducting
 *   without and with a per-customer limit (issue 17), sold out with no open
 *   hold, and sold out with open holds; settleHold-6
 *   committing and releasing. In alternating rounds (every path once a
 *   round, forwards then backwards), so that the machine's drifting load
 *   falls on every path alike.
 * - Bytes (`INFO memory` used_memory deltas) per open hold, per settled
 *   record (while its hold's expiry ticket still waits, and once its hold's
 *   time is over), and per idempotency record: the record the middleware
 *   keeps of an order's 201 JSON answer, made over HTTP.
 * - The longest script call (SLOWLOG logging every command) and the longest
 *   PING of another client while `dueHolds` holds of one item that fell due
 *   together are given back: the first reservation, then a read of the stock.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createStockStore, customerDigest, reserveStock, type StockStore } from '../lib';
import { bindCommands } from '../lib/scripts/commands';
import { stockKeys } from '../lib/store/keys';
import { express, listen } from '../test/helpers/app';
import { inBatches, makeHolds, newNonce, outlasting, settleHolds } from '../test/helpers/bulk-holds';
import { raisePriority } from '../test/helpers/ping-poller';
import { RedisServer } from '../test/helpers/redis-server';
import { SLOWLOG_READ, watchRedis } from '../test/helpers/watch-redis';
import type { ScriptSettings } from './config';
import { SEED_NOT_ENOUGH, seedStockCommand } from './seed-script';

/** The paths measured, the article's first. */
export const SCRIPT_PATHS = ['seed', 'seed-sold-out', 'reserve', 'reserve-limited', 'sold-out', 'sold-out-held', 'commit', 'release'] as const;
export type ScriptPath = (typeof SCRIPT_PATHS)[number];

/** Customers of the limited item, each reserving in turn: a flash sale's crowd on one item. */
const LIMITED_CUSTOMERS = 10_000;

/** What each path is, for the report. */
export const PATH_LABELS: Record<ScriptPath, string> = {
  seed: "the article's script, deducting",
  'seed-sold-out': "the article's script, sold out",
  reserve: 'reserveHold-6, deducting (a new hold)',
  'reserve-limited': `reserveHold-6, deducting under a per-customer limit (${LIMITED_CUSTOMERS} customers)`,
  'sold-out': 'reserveHold-6, sold out, no open hold',
  'sold-out-held': 'reserveHold-6, sold out, 1,000 open holds',
  commit: 'settleHold-6, commit',
  release: 'settleHold-6, release',
};

export interface PathCost {
  path: ScriptPath;
  calls: number;
  /** Redis-side µs per call (commandstats). */
  usPerCall: number;
}

export interface ScriptReport {
  settings: ScriptSettings;
  /** Whether the private server ran before the machine's other work (see raisePriority). */
  prioritised: boolean;
  paths: PathCost[];
  bytesPerOpenHold: number;
  /** A settled record while its hold's expiry ticket still waits (until the hold's time). */
  bytesPerSettledRecordWithTicket: number;
  /** A settled record once its hold's time is over: its record and its purge ticket. */
  bytesPerSettledRecord: number;
  bytesPerIdempotencyRecord: number;
  /** The answer the idempotency records keep (an order's 201 JSON), bytes. */
  idempotencyAnswerBytes: number;
  due: { holds: number; calls: number; longestMs: number; totalMs: number; longestPingMs: number };
}

/** The scenario's steps, for the runner's progress count. */
export const SCRIPT_STEPS = 3;

// The store's defaults: a hold of 15 minutes, a settled record kept a day.
const HOLD_MS = 900_000;
const RETENTION_MS = 86_400_000;
/** Open holds of the sold-out item that has some. */
const OPEN_HOLDS = 1000;
/** Calls of each path before the first measurement: each script loaded on the connection, each item's keys made. */
const WARM_UP = 100;
const PREFIX = 'bench:script:';

/** One path: `prepare(n)` sets up n calls (not measured) and returns them, to be measured. */
type Prepare = (n: number) => Promise<() => Promise<void>>;

export async function runScriptScenario(settings: ScriptSettings, step: (label: string) => void): Promise<ScriptReport> {
  const server = await RedisServer.start({ args: ['--slowlog-max-len', String(SLOWLOG_READ)] });
  const prioritised = raisePriority(server.pid);
  const admin = new Redis(server.url);
  const client = new Redis(server.url);
  try {
    const store = createStockStore({ redis: client, prefix: PREFIX });
    step(`script · Redis µs per call of ${SCRIPT_PATHS.length} paths, ${settings.rounds} rounds of ${settings.callsPerRound.toLocaleString('en-US')} calls each`);
    const paths = await measurePaths(admin, client, store, settings);
    await admin.flushall();
    step(`script · bytes per open hold and settled record (${settings.memoryHolds.toLocaleString('en-US')}), per idempotency record (${settings.memoryRequests.toLocaleString('en-US')})`);
    const memory = await measureMemory(admin, client, store, settings);
    await admin.flushall();
    step(`script · ${settings.dueHolds.toLocaleString('en-US')} holds of one item fall due together`);
    const due = await measureDue(admin, server, client, settings.dueHolds, memory.holdsTookMs * (settings.dueHolds / settings.memoryHolds));
    return { settings, prioritised, paths, ...memory.bytes, due };
  } finally {
    admin.disconnect();
    client.disconnect();
    await server.dispose();
  }
}

/** Every path's µs per call, in alternating rounds. */
async function measurePaths(admin: Redis, client: Redis, store: StockStore, settings: ScriptSettings): Promise<PathCost[]> {
  const { callsPerRound, rounds } = settings;
  const prepare = await preparePaths(client, store, settings);
  for (const path of SCRIPT_PATHS) await (await prepare[path](WARM_UP))();
  const usec = Object.fromEntries(SCRIPT_PATHS.map((path) => [path, 0])) as Record<ScriptPath, number>;
  for (let round = 0; round < rounds; round++) {
    for (const path of round % 2 === 0 ? SCRIPT_PATHS : [...SCRIPT_PATHS].reverse()) {
      const run = await prepare[path](callsPerRound);
      await admin.config('RESETSTAT');
      await run();
      usec[path] += await evalshaUsec(admin, callsPerRound, path);
    }
  }
  const calls = callsPerRound * rounds;
  return SCRIPT_PATHS.map((path) => ({ path, calls, usPerCall: Math.round((usec[path] / calls) * 100) / 100 }));
}

/** The µs EVALSHA took since RESETSTAT; throws unless exactly `calls` EVALSHA (and no EVAL) ran. */
async function evalshaUsec(admin: Redis, calls: number, path: ScriptPath): Promise<number> {
  const stats = await admin.info('commandstats');
  const evalsha = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(stats);
  if (/^cmdstat_eval:/m.test(stats) || Number(evalsha?.[1]) !== calls) {
    throw new Error(`script scenario, ${path}: expected ${calls} EVALSHA and nothing else, commandstats say:\n${stats}`);
  }
  return Number(evalsha?.[2]);
}

/** Each path's preparation, on its own item. */
async function preparePaths(client: Redis, store: StockStore, { callsPerRound, rounds, concurrency }: ScriptSettings): Promise<Record<ScriptPath, Prepare>> {
  const commands = bindCommands(client);
  const seedStock = seedStockCommand(client);
  const keysOf = (key: string) => stockKeys(PREFIX, key).holds;
  const plenty = (callsPerRound * rounds + WARM_UP) * 2;
  const times = { holdMs: HOLD_MS, retentionMs: RETENTION_MS };
  const customers = Array.from({ length: LIMITED_CUSTOMERS }, (_, i) => customerDigest(`customer-${i}`));

  await client.set(`${PREFIX}seed`, plenty);
  await client.set(`${PREFIX}seed-empty`, 0);
  for (const key of ['reserve', 'reserve-limited', 'commit', 'release']) await store.setStock(key, plenty);
  await store.setStock('empty', 0);
  await store.setStock('held', OPEN_HOLDS);
  await makeHolds(client, 'held', keysOf('held'), OPEN_HOLDS, times);

  const article = (key: string, expect: (answer: number) => boolean) => async (n: number) => () =>
    inBatches(
      n,
      async () => {
        const answer = await seedStock(`${PREFIX}${key}`, 1);
        if (!expect(answer)) throw new Error(`the article's script answered ${answer} on ${key}`);
      },
      concurrency,
    );
  const soldOut = (key: string) => async (n: number) => {
    const nonces = Array.from({ length: n }, () => newNonce(key));
    return () =>
      inBatches(
        n,
        async (i) => {
          const reply = await commands.reserveHold(...keysOf(key), 1, nonces[i] as string, HOLD_MS, RETENTION_MS, '', '');
          // A refusal: the figure's own text (the quick path) or -2.
          if (typeof reply !== 'string' && reply[0] !== -2) throw new Error(`reserveHold-6 answered ${JSON.stringify(reply)} on the sold-out ${key}`);
        },
        concurrency,
      );
  };
  const settle = (action: 'commit' | 'release') => async (n: number) => {
    const { nonces } = await makeHolds(client, action, keysOf(action), n, times);
    return () => settleHolds(client, keysOf(action), nonces, action, RETENTION_MS, concurrency);
  };
  return {
    seed: article('seed', (answer) => answer >= 0),
    'seed-sold-out': article('seed-empty', (answer) => answer === SEED_NOT_ENOUGH),
    reserve: async (n) => async () => {
      await makeHolds(client, 'reserve', keysOf('reserve'), n, { ...times, inFlight: concurrency });
    },
    // A limit no customer reaches, so that every call deducts: the same
    // reservation as `reserve`, plus the count and check of the limit.
    'reserve-limited': async (n) => async () => {
      const customerOf = (i: number): [string, number] => [customers[i % LIMITED_CUSTOMERS] as string, plenty];
      await makeHolds(client, 'reserve-limited', keysOf('reserve-limited'), n, { ...times, inFlight: concurrency, customerOf });
      // Counted, or the path measured no limit (HGET is not an EVALSHA: commandstats' count stays the path's).
      if ((await client.hget(keysOf('reserve-limited')[1], customers[0] as string)) === null) throw new Error('reserveHold-6 counted no customer under a limit');
    },
    'sold-out': soldOut('empty'),
    'sold-out-held': soldOut('held'),
    commit: settle('commit'),
    release: settle('release'),
  };
}

/** used_memory, bytes. */
async function usedMemory(admin: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))?.[1]);
}

/** Sleeps until `ms` (ms since the epoch; the server runs on this machine) and a little more. */
async function sleepUntil(ms: number): Promise<void> {
  await sleep(Math.max(0, ms - Date.now() + 200));
}

/** Bytes per open hold, per settled record, per idempotency record; and how long making the holds took. */
async function measureMemory(admin: Redis, client: Redis, store: StockStore, { memoryHolds: holds, memoryRequests }: ScriptSettings) {
  const keysOf = (key: string) => stockKeys(PREFIX, key).holds;
  const per = (from: number, to: number, count: number) => Math.round((to - from) / count);

  await store.setStock('open', holds);
  let before = await usedMemory(admin);
  const started = Date.now();
  await makeHolds(client, 'open', keysOf('open'), holds, { holdMs: HOLD_MS, retentionMs: RETENTION_MS });
  const holdsTookMs = Date.now() - started;
  const bytesPerOpenHold = per(before, await usedMemory(admin), holds);

  // Holds that end soon, committed at once: first their records with the holds' expiry tickets, then without.
  await store.setStock('settled', holds);
  before = await usedMemory(admin);
  const times = { holdMs: outlasting(2 * holdsTookMs), retentionMs: RETENTION_MS };
  const { nonces, lastExpiry } = await makeHolds(client, 'settled', keysOf('settled'), holds, times);
  await settleHolds(client, keysOf('settled'), nonces, 'commit', RETENTION_MS);
  const bytesPerSettledRecordWithTicket = per(before, await usedMemory(admin), holds);
  await sleepUntil(lastExpiry);
  await store.getStock('settled'); // drops the tickets of the settled holds, a batch a call
  const due = await admin.llen(keysOf('settled')[2]);
  if (due !== 0) throw new Error(`script scenario: ${due} expiry tickets left after a read`);
  const bytesPerSettledRecord = per(before, await usedMemory(admin), holds);

  const idempotency = await measureIdempotency(admin, store, memoryRequests);
  return {
    holdsTookMs,
    bytes: { bytesPerOpenHold, bytesPerSettledRecordWithTicket, bytesPerSettledRecord, ...idempotency },
  };
}

/**
 * The idempotency records of `requests` orders answered 201 through the
 * middleware (an order's JSON, as the example app answers), each with its
 * own Idempotency-Key: the memory their deletion gives back.
 */
async function measureIdempotency(admin: Redis, store: StockStore, requests: number) {
  const app = express();
  app.use(express.json());
  let orders = 0;
  app.post('/orders', reserveStock({ store, key: (req) => req.body.sku, qty: (req) => req.body.qty }), (req, res) => {
    res.status(201).json({ id: 100_000 + ++orders, sku: req.body.sku, qty: req.body.qty, status: 'paid' });
  });
  const http = await listen(app);
  let answer = '';
  try {
    await store.setStock('tee-black-m', requests);
    await inBatches(
      requests,
      async () => {
        const res = await fetch(`${http.url}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify({ sku: 'tee-black-m', qty: 1 }),
        });
        answer = await res.text();
        if (res.status !== 201) throw new Error(`script scenario: an order answered ${res.status}: ${answer}`);
      },
      20,
    );
  } finally {
    await http.close();
  }
  const records: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${PREFIX}request:*`, 'COUNT', 1000);
    records.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  if (records.length !== requests) throw new Error(`script scenario: ${records.length} idempotency records for ${requests} requests`);
  const before = await usedMemory(admin);
  for (let i = 0; i < records.length; i += 1000) await admin.del(...records.slice(i, i + 1000));
  return { bytesPerIdempotencyRecord: Math.round((before - (await usedMemory(admin))) / requests), idempotencyAnswerBytes: Buffer.byteLength(answer) };
}

/**
 * `holds` holds of one item fall due together (made in about `makingMs`);
 * then a reservation and a read give their units back, watched: every
 * script call's time (SLOWLOG logging every command) and another client's
 * PINGs.
 */
async function measureDue(admin: Redis, server: RedisServer, client: Redis, holds: number, makingMs: number): Promise<ScriptReport['due']> {
  const store = createStockStore({ redis: client, prefix: PREFIX });
  const keys = stockKeys(PREFIX, 'due').holds;
  await store.setStock('due', holds + 1);
  const lasts = outlasting(makingMs);
  const { lastExpiry } = await makeHolds(client, 'due', keys, holds, { holdMs: lasts, retentionMs: RETENTION_MS });
  const queued = await admin.llen(keys[2]);
  if (queued !== holds) throw new Error(`script scenario: ${queued} of ${holds} holds left once made: making them took longer than the ${lasts} ms they last`);
  await sleepUntil(lastExpiry);
  await admin.config('SET', 'slowlog-log-slower-than', '0');
  const shop = new Redis(server.url);
  try {
    const shopStore = createStockStore({ redis: shop, prefix: PREFIX });
    const { result, scripts, ping } = await watchRedis(admin, server.port, async () => {
      const first = await shopStore.reserve('due', 1);
      return { first, stock: await shopStore.getStock('due') };
    });
    if (result.first.status !== 'reserved' || result.stock !== holds) {
      throw new Error(`script scenario: after ${holds} holds fell due, ${JSON.stringify(result)}`);
    }
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return {
      holds,
      calls: scripts.length,
      longestMs: round(Math.max(...scripts.map((s) => s.ms))),
      totalMs: round(scripts.reduce((sum, s) => sum + s.ms, 0)),
      longestPingMs: round(ping.maxMs),
    };
  } finally {
    shop.disconnect();
  }
}
