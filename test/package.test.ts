import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { SCRIPT_FILES, scriptSource } from '../lib/scripts/commands';
import { MATRIX, ROOT, comboProject, run } from './helpers/consumer';
import { useSharedRedis } from './helpers/redis';

// The package as a shop gets it: packed, installed from the tarball into a
// fresh project next to ioredis 6 and Express 5, then used from CommonJS,
// from ES modules and from TypeScript. (test/consumer.test.ts tries every
// pairing with ioredis 5 and Express 4.)
const fixtures = join(__dirname, 'package', 'fixtures');
const shared = useSharedRedis('pkg');

/** Every file under `dir`, relative to it. */
const filesUnder = (dir: string) => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));

/** The packages `lib/` imports for their values (type-only imports vanish from the build). */
function runtimeImports(): string[] {
  const found = new Set<string>();
  for (const file of filesUnder(join(ROOT, 'lib'))) {
    const source = readFileSync(join(ROOT, 'lib', file), 'utf8');
    for (const [, what, name] of source.matchAll(/^import (type )?[^'";]*from '([^']+)'/gm)) {
      if (!what && !name!.startsWith('.') && !name!.startsWith('node:')) found.add(name!);
    }
  }
  return [...found].sort();
}

describe('the published package', function () {
  this.timeout(300_000);
  let project: string;
  let installed: string;

  before(async () => {
    project = await comboProject(MATRIX[0]);
    cpSync(fixtures, project, { recursive: true });
    installed = join(project, 'node_modules', 'reserve-stock');
  });

  const prefix = () => shared.prefix();
  const node = (args: string[]) => run('node', args, project);

  it('ships the built code, the docs and the licence, nothing else (the Lua is in the code)', () => {
    const shipped = filesUnder(installed).filter((file) => !file.startsWith('node_modules'));
    expect(shipped.sort()).to.deep.equal([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'dist/index.cjs',
      'dist/index.cjs.map',
      'dist/index.d.mts',
      'dist/index.d.ts',
      'dist/index.mjs',
      'dist/index.mjs.map',
      'package.json',
    ]);
  });

  it('depends at run time on what lib/ imports, nothing more: no sequelize or mysql2 in a shop\'s install', () => {
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { dependencies: object };
    expect(Object.keys(manifest.dependencies).sort()).to.deep.equal(runtimeImports());
    for (const name of ['sequelize', 'mysql2']) {
      expect(existsSync(join(project, 'node_modules', name)), name).to.equal(false);
    }
  });

  it('sends the Lua of lua/ as it is now, includes resolved', async () => {
    const sent = JSON.parse(await node(['lua-texts.cjs', prefix()])) as Record<string, string>;
    expect(Object.keys(sent).sort()).to.deep.equal(Object.keys(SCRIPT_FILES).sort());
    for (const name of Object.keys(SCRIPT_FILES) as (keyof typeof SCRIPT_FILES)[]) {
      expect(sent[name], name).to.equal(scriptSource(name));
    }
  });

  it('works with require()', async () => {
    const out = JSON.parse(await node(['use-require.cjs', prefix()]));
    expect(out).to.deep.equal({
      first: { status: 'reserved', remaining: 3 },
      holdIdOk: true,
      committed: { state: 'committed', changed: true },
      second: { status: 'insufficient', available: 3 },
      code: 'ERR_RESERVE_STOCK_STORE',
    });
  });

  it('works with import', async () => {
    const out = JSON.parse(await node(['use-import.mjs', prefix()]));
    expect(out).to.deep.equal({
      first: { status: 'reserved', remaining: 3 },
      holdIdOk: true,
      released: { state: 'released', changed: true },
      second: { status: 'insufficient', available: 5 },
    });
  });

  it('has types for both import and require', async () => {
    await run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', project], project);
  });
});
