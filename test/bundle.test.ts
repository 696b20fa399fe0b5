/**
 * A shop bundles its server with esbuild into one file, the package
 * included: the Lua scripts are in the built JavaScript, so the bundle
 * reserves with no reserve-stock (and no lua/) on disk at all.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { build } from 'esbuild';
import request from 'supertest';
import { MATRIX, comboProject, tempDir, userEnv } from './helpers/consumer';
import { startProcess } from './helpers/fixture-process';
import { REDIS_URL, useSharedRedis } from './helpers/redis';

const shared = useSharedRedis('bundle');

describe('a server bundled with esbuild into one file', function () {
  this.timeout(300_000);

  it('runs where no node_modules are, and reserves: 201, then a sold-out 409', async () => {
    const project = await comboProject(MATRIX[0]);
    expect(existsSync(join(project, 'node_modules', 'reserve-stock', 'lua'))).to.equal(false);
    copyFileSync(join(__dirname, 'consumer', 'bundle-server.mjs'), join(project, 'bundle-server.mjs'));
    // Its own folder, with no node_modules in it or above it.
    const alone = tempDir('bundle');
    const outfile = join(alone, 'server.cjs');
    await build({ entryPoints: [join(project, 'bundle-server.mjs')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile, logLevel: 'error' });

    const server = startProcess(process.execPath, [outfile], { cwd: alone, env: userEnv({ REDIS_URL, PREFIX: shared.prefix() }) });
    try {
      await server.waitForOutput('listening on ', 'the bundled server to listen');
      const url = `http://127.0.0.1:${/listening on (\d+)/.exec(server.stdout)?.[1]}`;
      const first = await request(url).post('/orders').expect(201);
      expect(first.body.holdId).to.be.a('string');
      const second = await request(url).post('/orders').expect(409);
      expect(second.body.error).to.include({ status: 409, code: 'ERR_RESERVE_STOCK_SOLD_OUT', available: 0 });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});
