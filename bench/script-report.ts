/**
 * The script scenario (./script.ts) in the results: its ratios, their aims
 * (issue 13), and its lines in the terminal and Markdown reports.
 */
import type { ScriptRatios } from './results';
import { PATH_LABELS, type ScriptPath, type ScriptReport } from './script';
import { round3 } from './stats';

/** The ratios of a script run; all null when it did not run. */
export function scriptRatios(report: ScriptReport | undefined): ScriptRatios {
  const us = (path: ScriptPath) => report?.paths.find((p) => p.path === path)?.usPerCall;
  const over = (path: ScriptPath, base: ScriptPath) => {
    const [a, b] = [us(path), us(base)];
    return a === undefined || b === undefined || b === 0 ? null : round3(a / b);
  };
  return {
    reserveOverSeedUs: over('reserve', 'seed'),
    limitOverReserveUs: over('reserve-limited', 'reserve'),
    soldOutOverSeedUs: over('sold-out', 'seed-sold-out'),
    soldOutWithHoldsOverSeedUs: over('sold-out-held', 'seed-sold-out'),
    commitOverSeedUs: over('commit', 'seed'),
    releaseOverSeedUs: over('release', 'seed'),
    bytesPerOpenHold: report?.bytesPerOpenHold ?? null,
    bytesPerSettledRecord: report?.bytesPerSettledRecord ?? null,
    bytesPerIdempotencyRecord: report?.bytesPerIdempotencyRecord ?? null,
    longestReapMs: report?.due.longestMs ?? null,
  };
}

/** The aims of issues 13 and 17, as report.ts lists them. */
export const SCRIPT_AIMS: { key: keyof ScriptRatios; label: string; aim: string; met: (v: number) => boolean }[] = [
  { key: 'reserveOverSeedUs', label: "Redis µs per call, reserveHold-6 deducting / the article's script deducting", aim: '<= 3', met: (v) => v <= 3 },
  {
    key: 'limitOverReserveUs',
    label: 'Redis µs per call, reserveHold-6 deducting under a per-customer limit / the same without a limit',
    aim: '<= 1.15',
    met: (v) => v <= 1.15,
  },
  { key: 'soldOutOverSeedUs', label: "Redis µs per call, reserveHold-6 sold out (no open hold) / the article's script sold out", aim: '<= 2', met: (v) => v <= 2 },
  {
    key: 'soldOutWithHoldsOverSeedUs',
    label: "Redis µs per call, reserveHold-6 sold out (open holds) / the article's script sold out",
    aim: '<= 2',
    met: (v) => v <= 2,
  },
  { key: 'commitOverSeedUs', label: "Redis µs per call, settleHold-6 commit / the article's script deducting", aim: 'reported', met: () => true },
  { key: 'releaseOverSeedUs', label: "Redis µs per call, settleHold-6 release / the article's script deducting", aim: 'reported', met: () => true },
  { key: 'bytesPerOpenHold', label: 'Redis bytes per open hold', aim: '<= 150', met: (v) => v <= 150 },
  { key: 'bytesPerSettledRecord', label: "Redis bytes per settled record (once its hold's time is over)", aim: 'reported', met: () => true },
  { key: 'bytesPerIdempotencyRecord', label: "Redis bytes per idempotency record (an order's 201 JSON)", aim: 'reported', met: () => true },
  { key: 'longestReapMs', label: 'the longest script call while the holds that fell due together are given back, ms', aim: '<= 20', met: (v) => v <= 20 },
];

/** The scenario's section of latest.md (none when it did not run). */
export function scriptMarkdown(report: ScriptReport | undefined): string[] {
  if (!report) return [];
  const { settings, paths, due } = report;
  const seed = (path: ScriptPath): ScriptPath => (path.startsWith('sold-out') ? 'seed-sold-out' : 'seed');
  const usOf = (path: ScriptPath) => paths.find((p) => p.path === path)?.usPerCall ?? 0;
  const out = [
    '',
    `**Scripts** (a private redis-server${report.prioritised ? ' run before the machine\'s other work' : ''}; Redis-side µs per call from \`INFO commandstats\`, ` +
      `${settings.rounds} alternating rounds of ${settings.callsPerRound.toLocaleString('en-US')} calls of each path, ${settings.concurrency} in flight on one connection):`,
    '',
    '| path | calls | µs per call | over the article\'s |',
    '| --- | ---: | ---: | ---: |',
  ];
  for (const { path, calls, usPerCall } of paths) {
    const ratio = path.startsWith('seed') ? '1' : String(round3(usPerCall / usOf(seed(path))));
    out.push(`| ${PATH_LABELS[path]} | ${calls.toLocaleString('en-US')} | ${usPerCall} | ${ratio} |`);
  }
  out.push(
    '',
    `**Redis memory** (used_memory deltas): ${report.bytesPerOpenHold} bytes per open hold; ${report.bytesPerSettledRecord} per settled record ` +
      `(${report.bytesPerSettledRecordWithTicket} while its hold's expiry ticket waits), over ${settings.memoryHolds.toLocaleString('en-US')} of each; ` +
      `${report.bytesPerIdempotencyRecord} per idempotency record of a ${report.idempotencyAnswerBytes}-byte 201 answer, over ${settings.memoryRequests.toLocaleString('en-US')}.`,
    '',
    `**${due.holds.toLocaleString('en-US')} holds of one item fell due together:** the next reservation and a read gave them back in ${due.calls} script calls, ` +
      `${due.totalMs} ms of Redis time in all; the longest call ${due.longestMs} ms; another client's PING waited at most ${due.longestPingMs} ms.`,
  );
  return out;
}

/** The scenario's lines for the terminal (none when it did not run). */
export function scriptTerminal(report: ScriptReport | undefined): string[] {
  if (!report) return [];
  const paths = report.paths.map(({ path, usPerCall }) => `${path} ${usPerCall}`).join(', ');
  return [
    '',
    `scripts, Redis µs per call: ${paths}`,
    `Redis bytes: ${report.bytesPerOpenHold} per open hold, ${report.bytesPerSettledRecord} per settled record (${report.bytesPerSettledRecordWithTicket} with its hold's ticket), ` +
      `${report.bytesPerIdempotencyRecord} per idempotency record`,
    `${report.due.holds} holds due together: ${report.due.calls} calls, longest ${report.due.longestMs} ms, ${report.due.totalMs} ms in all; longest PING ${report.due.longestPingMs} ms`,
  ];
}
