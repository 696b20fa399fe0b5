import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';

// The package as a shop gets it: packed, installed from the tarball into a
// fresh project, then used from CommonJS, from ES modules and from TypeScript.
const root = resolve(__dirname, '..');
const fixtures = join(__dirname, 'package', 'fixtures');

function run(command: string, args: string[], cwd: string): string {
  return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('the published package', function () {
  this.timeout(180_000);
  let project: string;

  before(function () {
    const packDir = mkdtempSync(join(tmpdir(), 'reserve-stock-pack-'));
    run('npm', ['pack', '--silent', '--pack-destination', packDir], root);
    const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz')) as string);
    project = mkdtempSync(join(tmpdir(), 'reserve-stock-consumer-'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    cpSync(fixtures, project, { recursive: true });
    const versionOf = (name: string): string =>
      JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;
    run(
      'npm',
      [
        'install', '--no-audit', '--no-fund', '--prefer-offline', tarball,
        `ioredis@${versionOf('ioredis')}`, `express@${versionOf('express')}`,
        `@types/express@${versionOf('@types/express')}`, `@types/node@${versionOf('@types/node')}`,
      ],
      project,
    );
    rmSync(packDir, { recursive: true, force: true });
  });

  after(() => rmSync(project, { recursive: true, force: true }));

  const prefix = () => `test:${process.pid}:pkg:${Math.random().toString(36).slice(2)}:`;

  it('ships the built code, the Lua scripts and the docs, nothing else', function () {
    const files = readdirSync(join(project, 'node_modules', 'reserve-stock'), { recursive: true }) as string[];
    expect(files).to.include.members([
      'dist/index.cjs',
      'dist/index.mjs',
      'dist/index.d.ts',
      'dist/index.d.mts',
      'lua/reserveHold-6.lua',
      'lua/settleHold-6.lua',
      'lua/includes/holds.lua',
      'README.md',
    ]);
    expect(files.filter((f) => f.startsWith('lib') || f.startsWith('test'))).to.deep.equal([]);
  });

  it('works with require()', function () {
    const out = JSON.parse(run('node', ['use-require.cjs', prefix()], project));
    expect(out).to.deep.equal({
      first: { status: 'reserved', remaining: 3 },
      holdIdOk: true,
      committed: { state: 'committed', changed: true },
      second: { status: 'insufficient', available: 3 },
      code: 'ERR_RESERVE_STOCK_STORE',
    });
  });

  it('works with import', function () {
    const out = JSON.parse(run('node', ['use-import.mjs', prefix()], project));
    expect(out).to.deep.equal({
      first: { status: 'reserved', remaining: 3 },
      holdIdOk: true,
      released: { state: 'released', changed: true },
      second: { status: 'insufficient', available: 5 },
    });
  });

  it('has types for both import and require', function () {
    run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', project], project);
  });
});
