/**
 * `npm run bench`: the full run (about eight minutes), written to
 * bench/results/ (latest.json, latest.md, chart.svg).
 * `npm run bench -- --quick`: the smoke run (a minute or two), written to
 * $TMPDIR/reserve-stock-bench-quick/ unless `--out` says otherwise.
 *
 * Options: `--only gate,bare` (contenders), `--scenarios flash,surge`,
 * `--no-data` (skip the data layer), `--data-only`, `--no-script` (skip the
 * script scenario), `--script-only`, `--out dir`,
 * `--profile <contender|data>`: that server (or the data-layer worker) runs
 * under --cpu-prof, profiles in bench/results/*.cpuprofile (git-ignored).
 * BENCH_TRACE=1 prints each phase's timestamp. BENCH_REDIS_URL and
 * BENCH_MYSQL_URL override the loopback defaults.
 */
import { settingsFromArgs } from './config';
import { terminalTable, writeOutputs } from './report';
import { terminalReporter } from './reporter';
import { runBench } from './runner';

async function main(): Promise<void> {
  const settings = settingsFromArgs(process.argv.slice(2));
  const report = await runBench(settings, terminalReporter());
  const paths = writeOutputs(report, settings.outDir);
  process.stdout.write(`\n${terminalTable(report, process.stdout.isTTY === true)}\n\n`);
  process.stdout.write(`wrote ${paths.json}, ${paths.md}, ${paths.svg} (${report.elapsedSec} s)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`\nbench failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exitCode = 1;
});
