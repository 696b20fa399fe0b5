/**
 * `npm run test:cluster`: every suite of `npm test` again, on a private
 * Redis Cluster (./fixture.ts starts it and sets REDIS_CLUSTER_NODES), and
 * the cluster's own suites (*.cluster.ts). Suites are picked by glob, so a
 * new one runs here too unless it is listed below with the reason it cannot.
 */
const SINGLE_REDIS_ONLY = {
  'test/bench.test.ts': 'the benchmark runs its own servers against the single Redis of BENCH_REDIS_URL',
  'test/bundle.test.ts': "a bundled server of its own, on REDIS_URL's single Redis",
  'test/consumer.test.ts': "installs the packed package in new projects, run on REDIS_URL's single Redis",
  'test/lua-scripts.test.ts': 'reads the Lua files, no Redis',
  'test/core-outage.test.ts': 'stops, pauses and restarts a private redis-server',
  'test/footprint-memory.test.ts': "measures a private redis-server's memory and keys",
  'test/footprint-reaping.test.ts': "sets a private redis-server's SLOWLOG and times its PINGs",
  'test/holds-outage.test.ts': 'stops, pauses and restarts a private redis-server',
  'test/package.test.ts': 'checks the built package, no Redis',
  'test/wait-replicas.test.ts': 'runs a private master and replica of its own',
  'test/example/browser-lookup.test.ts': 'finds Chromium, no Redis',
  'test/example/admin.test.ts': 'the admin token and security headers: HTTP alone, the same on any Redis',
  'test/example/dashboard.test.ts': 'drives Chromium; the charts read what the events report, the same on any Redis',
  'test/example/demo.test.ts': "the demo connects to REDIS_URL's single Redis",
  'test/example/metrics.test.ts': "counts the app's own metrics, the same on any Redis",
  'test/example/operations.test.ts': 'stops and starts a private redis-server under the probes and the connection log',
  'test/example/outage.test.ts': 'aims its clients at a port where nothing listens',
  'test/example/storefront.test.ts': 'drives Chromium; the page reads the same JSON on any Redis',
  'test/example/timeline.test.ts': 'no Redis at all',
  'test/example/transaction.test.ts': 'InnoDB deadlocks, no Redis',
};

module.exports = {
  require: ['tsx/cjs', 'test/cluster/fixture.ts'],
  extension: ['ts'],
  timeout: 30000,
  exit: true,
  spec: ['test/**/*.test.ts', 'test/cluster/*.cluster.ts'],
  ignore: Object.keys(SINGLE_REDIS_ONLY),
};
