/**
 * Settings of one benchmark run: the full run (`npm run bench`), the smoke
 * run (`--quick`) and whatever a test overrides.
 */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CONTENDERS, SCENARIOS, type Contender, type Scenario } from './results';

export interface ScenarioSettings {
  /** autocannon connections. */
  connections: number;
  /** Seconds of load, after the warm-up. */
  durationSec: number;
  /** Number of skus the requests spread over. */
  skus: number;
  /** Units of each sku. */
  stock: number;
  /** Size of the server's database pool. */
  poolMax: number;
}

/** The script scenario (./script.ts). */
export interface ScriptSettings {
  /** Calls of each script path per round, in `rounds` alternating rounds. */
  callsPerRound: number;
  rounds: number;
  /** Calls in flight at a time, on one connection. */
  concurrency: number;
  /** Holds (and settled records) the bytes per hold are measured over. */
  memoryHolds: number;
  /** Answered requests the bytes per idempotency record are measured over. */
  memoryRequests: number;
  /** Holds of one item that fall due together. */
  dueHolds: number;
}

export interface BenchSettings {
  quick: boolean;
  /** Seconds of warm-up load on a separate sku before each measured run. */
  warmupSec: number;
  /** Seconds autocannon waits for one response before counting a timeout. */
  requestTimeoutSec: number;
  /** Longest a server may take to finish its in-flight requests after a run. */
  drainTimeoutMs: number;
  scenarios: Record<Scenario, ScenarioSettings>;
  contenders: readonly Contender[];
  /** One server process per contender for all its scenarios (else one per contender and scenario). */
  reuseServers: boolean;
  /**
   * bare, gate, raw-seed and store-route take turns in up to this many
   * rounds (A B C D, D C B A, ...) of whole seconds that add up to
   * `durationSec`; the data layer's pairs (store and redis-benchmark,
   * store-replica and store-wait1) in this many. 1: one stretch each.
   */
  alternatingRounds: number;
  /** Which scenarios run over HTTP. */
  runScenarios: readonly Scenario[];
  /** The data-layer store bench: total calls and concurrent callers. */
  store: { calls: number; concurrency: number; maxSec: number };
  /**
   * What `waitReplicas: 1` costs: calls of the store bench (at its concurrency)
   * with waitReplicas 0 and with 1, on a private master with one replica.
   */
  waitReplicas: { calls: number };
  /** The data-layer flash sale: units, attempts per unit, concurrent callers. */
  flashData: { units: number; attemptsPerUnit: number; concurrency: number; maxSec: number; poolMax: number };
  /** Run the data-layer benches at all. */
  dataLayer: boolean;
  /** Run the script scenario (`--no-script` skips it, `--script-only` runs it alone). */
  runScript: boolean;
  script: ScriptSettings;
  /** Where the JSON, Markdown and SVG go. */
  outDir: string;
  /** Contender whose server (or `data` for the data-layer worker) runs under --cpu-prof. */
  profile?: string;
  /** Folder for .cpuprofile files. */
  profileDir: string;
  redisUrl: string;
  mysqlUrl: string;
}

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MYSQL_URL = process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export function fullSettings(outDir: string): BenchSettings {
  return {
    quick: false,
    warmupSec: 1,
    requestTimeoutSec: 10,
    drainTimeoutMs: 60_000,
    scenarios: {
      flash: { connections: 100, durationSec: 15, skus: 1, stock: 1000, poolMax: 20 },
      steady: { connections: 100, durationSec: 6, skus: 1000, stock: 1_000_000, poolMax: 20 },
      surge: { connections: 500, durationSec: 9, skus: 1, stock: 1000, poolMax: 500 },
    },
    contenders: CONTENDERS,
    reuseServers: false,
    alternatingRounds: 15,
    runScenarios: SCENARIOS,
    store: { calls: 300_000, concurrency: 50, maxSec: 30 },
    waitReplicas: { calls: 300_000 },
    flashData: { units: 100, attemptsPerUnit: 100, concurrency: 50, maxSec: 60, poolMax: 20 },
    dataLayer: true,
    runScript: true,
    script: { callsPerRound: 20_000, rounds: 10, concurrency: 50, memoryHolds: 100_000, memoryRequests: 10_000, dueHolds: 200_000 },
    outDir,
    profileDir: 'bench/results',
    redisUrl: REDIS_URL,
    mysqlUrl: MYSQL_URL,
  };
}

/** The smoke run: every contender and scenario, short enough for a minute or two in all. */
export function quickSettings(outDir: string): BenchSettings {
  const full = fullSettings(outDir);
  return {
    ...full,
    quick: true,
    reuseServers: true,
    alternatingRounds: 1,
    warmupSec: 0,
    requestTimeoutSec: 5,
    drainTimeoutMs: 15_000,
    scenarios: {
      // Pools small enough for MariaDB's default max_connections (151): the
      // smoke run (and the test that runs it) leaves the server's settings alone.
      flash: { connections: 50, durationSec: 1, skus: 1, stock: 100, poolMax: 100 },
      steady: { connections: 50, durationSec: 1, skus: 20, stock: 1_000_000, poolMax: 100 },
      surge: { connections: 200, durationSec: 1, skus: 1, stock: 100, poolMax: 100 },
    },
    store: { calls: 20_000, concurrency: 50, maxSec: 5 },
    waitReplicas: { calls: 5000 },
    flashData: { units: 5, attemptsPerUnit: 100, concurrency: 50, maxSec: 10, poolMax: 10 },
    script: { callsPerRound: 2000, rounds: 2, concurrency: 50, memoryHolds: 5000, memoryRequests: 500, dueHolds: 10_000 },
  };
}

/** Parses `--quick`, `--only a,b`, `--scenarios x,y`, `--no-data`, `--data-only`, `--no-script`, `--script-only`, `--out dir`, `--profile name`. */
export function settingsFromArgs(argv: readonly string[]): BenchSettings {
  const value = (name: string): string | undefined => {
    const at = argv.indexOf(name);
    if (at >= 0) return argv[at + 1];
    const inline = argv.find((a) => a.startsWith(`${name}=`));
    return inline?.slice(name.length + 1);
  };
  const quick = argv.includes('--quick');
  // A smoke run must not overwrite the published results of a full run.
  const outDir = value('--out') ?? (quick ? join(tmpdir(), 'reserve-stock-bench-quick') : 'bench/results');
  const settings = quick ? quickSettings(outDir) : fullSettings(outDir);
  const only = value('--only');
  if (only) {
    const names = only.split(',');
    for (const n of names) {
      if (!(CONTENDERS as readonly string[]).includes(n)) throw new Error(`unknown contender ${n}; one of ${CONTENDERS.join(', ')}`);
    }
    settings.contenders = CONTENDERS.filter((c) => names.includes(c));
  }
  const scenarios = value('--scenarios');
  if (scenarios) {
    const names = scenarios.split(',');
    for (const n of names) {
      if (!(SCENARIOS as readonly string[]).includes(n)) throw new Error(`unknown scenario ${n}; one of ${SCENARIOS.join(', ')}`);
    }
    settings.runScenarios = SCENARIOS.filter((s) => names.includes(s));
  }
  if (argv.includes('--no-data')) settings.dataLayer = false;
  if (argv.includes('--data-only')) settings.runScenarios = [];
  if (argv.includes('--no-script')) settings.runScript = false;
  if (argv.includes('--script-only')) {
    settings.runScenarios = [];
    settings.dataLayer = false;
  }
  settings.profile = value('--profile');
  return settings;
}

/** Node's flags for the process that `settings.profile` names (a contender, or `data`): a CPU profile. */
export function profileFlags(settings: BenchSettings, contender: string, name: string): string[] {
  if (settings.profile !== contender) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${resolve(settings.profileDir)}`, `--cpu-prof-name=${name}.cpuprofile`];
}
