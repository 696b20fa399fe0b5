import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import { CONTENDERS, DATA_ROWS, RATIO_KEYS, ROW_KEYS, SCENARIOS, SCRIPT_RATIO_KEYS, type Row } from '../bench/results';
import { quickSettings } from '../bench/config';
import { PATH_LABELS } from '../bench/script';

// The benchmark's smoke run (`npm run bench -- --quick`): every contender in
// every scenario for about a second, then the data layer. It checks that the
// code runs end to end, writes the JSON of the shape, and that no
// contender oversold. Figures from a run this short (and on a shared
// machine) mean nothing, so none is asserted.
const root = resolve(__dirname, '..');

/** The row of `[scenario, contender]`. */
const named = (rows: Row[], [scenario, contender]: readonly [string, string]) =>
  rows.find((r) => r.scenario === scenario && r.contender === contender) as Row;

describe('the benchmark (--quick)', function () {
  this.timeout(240_000);
  let outDir: string;
  let output: { machine: Record<string, unknown>; rows: Row[]; ratios: Record<string, number | null> };
  let markdown: string;
  let svg: string;

  before(async function () {
    outDir = mkdtempSync(join(tmpdir(), 'reserve-stock-bench-'));
    await new Promise<void>((done, fail) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'bench/run.ts', '--quick', '--out', outDir],
        { cwd: root, timeout: 200_000, maxBuffer: 16 * 2 ** 20 },
        (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stdout}\n${stderr}`)) : done()),
      );
    });
    output = JSON.parse(readFileSync(join(outDir, 'latest.json'), 'utf8'));
    markdown = readFileSync(join(outDir, 'latest.md'), 'utf8');
    svg = readFileSync(join(outDir, 'chart.svg'), 'utf8');
  });

  after(function () {
    if (outDir && existsSync(outDir)) rmSync(outDir, { recursive: true, force: true });
  });

  it('writes { machine, rows, ratios } and nothing else', function () {
    expect(output).to.have.all.keys('machine', 'rows', 'ratios');
    expect(output.machine).to.have.all.keys('cores', 'node', 'redis', 'mariadb');
    expect(output.machine.cores).to.be.a('number').above(0);
    for (const key of ['node', 'redis', 'mariadb']) expect(output.machine[key]).to.be.a('string').with.length.above(0);
    expect(output.ratios).to.have.all.keys(...RATIO_KEYS);
    for (const key of RATIO_KEYS) {
      const value = output.ratios[key];
      expect(value === null || Number.isFinite(value), `${key} = ${value}`).to.equal(true);
    }
  });

  it('has a row of the same shape for every contender in every scenario, and the data layer', function () {
    for (const row of output.rows) {
      expect(row).to.have.all.keys(...ROW_KEYS);
      expect(row.contender).to.be.a('string');
      expect(row.scenario).to.be.a('string');
      for (const key of ['rps', 'rejected', 'errors', 'oversold', 'dbTxPer1k'] as const) {
        expect(row[key], `${row.scenario}/${row.contender} ${key}`).to.be.a('number').at.least(0);
      }
      for (const key of ['p50', 'p99', 'p999', 'sold', 'redisCallsPer1k'] as const) {
        const value = row[key];
        expect(value === null || (typeof value === 'number' && value >= 0), `${row.scenario}/${row.contender} ${key}`).to.equal(true);
      }
    }
    const pairs = output.rows.map((r) => `${r.scenario}/${r.contender}`);
    for (const scenario of SCENARIOS) {
      for (const contender of CONTENDERS) expect(pairs).to.include(`${scenario}/${contender}`);
    }
    expect(Object.values(DATA_ROWS).map(([scenario, contender]) => `${scenario}/${contender}`)).to.deep.equal([
      'data/store',
      'data/redis-benchmark',
      'data/store-replica',
      'data/store-wait1',
      'flash-data/checkout',
      'flash-data/mysql-row',
    ]);
    for (const [scenario, contender] of Object.values(DATA_ROWS)) {
      expect(pairs).to.include(`${scenario}/${contender}`);
    }
    expect(pairs.length).to.equal(new Set(pairs).size);
  });

  it('the data layer runs the same script on both sides, every call reserving one unit', function () {
    // redis-benchmark replays instead of reserving when its hold ids repeat:
    // its calls must each have deducted, as the store's did.
    for (const name of [DATA_ROWS.store, DATA_ROWS.redisBenchmark]) {
      const [, contender] = name;
      const row = named(output.rows, name);
      expect(row.errors, contender).to.equal(0);
      expect(row.sold, contender).to.be.above(0);
    }
  });

  it('measures waitReplicas 0 and 1 on a master with a replica: every call reserves, none fails for the WAIT', function () {
    for (const name of [DATA_ROWS.waitNone, DATA_ROWS.wait1]) {
      const [, contender] = name;
      const row = named(output.rows, name);
      expect(row.errors, contender).to.equal(0);
      expect(row.rejected, contender).to.equal(0);
      expect(row.sold, contender).to.be.above(0);
      expect(row.rps, contender).to.be.above(0);
      expect(row.p50, contender).to.be.a('number').above(0);
      expect(row.p99, contender).to.be.a('number').at.least(row.p50 as number);
    }
    expect(output.ratios.waitReplicas1OverNone).to.be.a('number').above(0);
    for (const key of ['waitReplicas1AddedP50Ms', 'waitReplicas1AddedP99Ms']) expect(output.ratios[key], key).to.be.a('number');
    // The notes say how many WAITs fell short; the WAIT count matches the reservations (else a note says otherwise).
    expect(markdown).to.match(/store-wait1: replicate error events .*: \d+ of \d+ reservations/);
    expect(markdown).not.to.match(/the master ran \d+ WAIT/);
  });

  it('oversells nothing, for any contender', function () {
    for (const row of output.rows) expect(row.oversold, `${row.scenario}/${row.contender}`).to.equal(0);
    // Every contender that sells reports what it sold, counted in the database or store.
    for (const row of output.rows.filter((r) => r.contender !== 'bare')) {
      expect(row.sold, `${row.scenario}/${row.contender}`).to.be.a('number');
    }
  });

  it('answers the flash sales with 201s and 409s, and the gate spares the database', function () {
    const row = (contender: string, scenario: string) =>
      output.rows.find((r) => r.contender === contender && r.scenario === scenario) as Row;
    // The quick flash sale has 100 units; every contender that sells sells some,
    // and those with the stock in Redis alone sell them all within the second.
    const { stock } = quickSettings(outDir).scenarios.flash;
    for (const contender of ['checkout', 'mysql-row', 'mysql-buckets', 'decrby']) {
      expect(row(contender, 'flash').sold, contender).to.be.within(1, stock);
    }
    for (const contender of ['gate', 'raw-seed', 'store-route']) {
      expect(row(contender, 'flash').sold, contender).to.equal(stock);
    }
    expect(row('bare', 'flash').dbTxPer1k).to.equal(0);
    expect(row('gate', 'flash').dbTxPer1k).to.equal(0);
    // Without the gate, every request that reached the handler ran a transaction.
    expect(row('mysql-row', 'flash').dbTxPer1k).to.be.at.least(900);
    // The gate's data-layer twin runs the transaction for winners only.
    expect(named(output.rows, DATA_ROWS.flashCheckout).dbTxPer1k).to.be.below(named(output.rows, DATA_ROWS.flashMysqlRow).dbTxPer1k);
  });

  it("counts each HTTP contender's Redis commands: some for those that use Redis, none for the others", function () {
    for (const row of output.rows.filter((r) => (SCENARIOS as readonly string[]).includes(r.scenario))) {
      const what = `${row.scenario}/${row.contender}`;
      if (['gate', 'raw-seed', 'store-route', 'checkout', 'decrby'].includes(row.contender)) {
        expect(row.redisCallsPer1k, what).to.be.a('number').above(0);
      } else {
        expect(row.redisCallsPer1k, what).to.equal(0);
      }
    }
    // raw-seed sends the article's script once per request, whatever it answers: the counter is the contender's alone.
    for (const scenario of SCENARIOS) expect(named(output.rows, [scenario, 'raw-seed']).redisCallsPer1k, scenario).to.equal(1000);
    for (const row of Object.values(DATA_ROWS).map((name) => named(output.rows, name))) expect(row.redisCallsPer1k, row.contender).to.equal(null);
    expect(output.ratios.flashRedisCallsPer1k).to.equal(named(output.rows, ['flash', 'gate']).redisCallsPer1k);
  });

  it('compares the gate with the article\'s script and the store without the middleware', function () {
    for (const key of ['gateOverRawSeed', 'steadyGateOverRawSeed', 'storeRouteOverRawSeed', 'gateOverBare']) {
      expect(output.ratios[key], key).to.be.a('number').above(0);
    }
  });

  it('the script scenario: every path measured against the article\'s script, the bytes per hold, settled record and idempotency record, holds due together reaped', function () {
    // Each path's calls were counted in commandstats (the run fails unless exactly its calls ran, each answered as the path expects).
    for (const key of SCRIPT_RATIO_KEYS) expect(output.ratios[key], key).to.be.a('number').above(0);
    const { callsPerRound, rounds, dueHolds } = quickSettings(outDir).script;
    const count = (n: number) => n.toLocaleString('en-US');
    for (const label of Object.values(PATH_LABELS)) expect(markdown).to.include(`| ${label} | ${count(callsPerRound * rounds)} |`);
    expect(markdown).to.include(`**${count(dueHolds)} holds of one item fell due together:** the next reservation and a read gave them back in `);
    expect(markdown).to.match(/\*\*Redis memory\*\* \(used_memory deltas\): \d+ bytes per open hold; \d+ per settled record/);
  });

  it('writes the Markdown table and the SVG chart', function () {
    expect(markdown).to.match(/^\| scenario \| contender \| req\/s \|.* \| db tx\/1k \| redis cmd\/1k \|$/m);
    for (const key of ['gateOverBare', 'gateOverRawSeed', 'steadyGateOverRawSeed', 'flashRedisCallsPer1k']) expect(markdown).to.include(`\`${key}\``);
    expect(svg.startsWith('<svg')).to.equal(true);
    expect(svg.trimEnd().endsWith('</svg>')).to.equal(true);
    expect(svg).to.include('<rect');
  });
});
