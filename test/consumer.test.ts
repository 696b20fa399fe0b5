/**
 * A shop installs the packed package with a plain `npm install`, next to
 * ioredis 6 or 5 and Express 5 or 4, and runs the README's "Use it in your
 * shop" app as the README shows it: type-checked under NodeNext and under
 * bundler resolution, then run against the real Redis.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { createStockStore } from '../lib';
import { MATRIX, ROOT, comboName, comboProject, run, userEnv, type Combo } from './helpers/consumer';
import { errorBodyProblem } from './helpers/error-body';
import { startProcess, type FixtureProcess } from './helpers/fixture-process';
import { REDIS_URL, deleteWithPrefix, uniquePrefix, useSharedRedis } from './helpers/redis';
import { freePort } from './helpers/redis-server';
import { waitFor } from './helpers/wait';
import request from 'supertest';

const shared = useSharedRedis('consumer');

/** The code block of the README's "Use it in your shop", its key prefix made `prefix`. */
function readmeApp(prefix: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Use it in your shop\n'));
  const code = section && /^```ts\n([\s\S]*?)^```$/m.exec(section)?.[1];
  if (!code) throw new Error('README.md: no ts block under "## Use it in your shop"');
  const parts = code.split("prefix: 'stock:'");
  expect(parts, "the README app's prefix: 'stock:'").to.have.length(2);
  return parts.join(`prefix: ${JSON.stringify(prefix)}`);
}

const tsconfig = (options: object, files: string[]) =>
  JSON.stringify({ compilerOptions: { target: 'es2022', strict: true, skipLibCheck: true, types: ['node'], ...options }, files }, null, 2);

const NODENEXT = { module: 'nodenext', moduleResolution: 'nodenext' };
const BUNDLER = { module: 'preserve', moduleResolution: 'bundler', noEmit: true };

const tsc = (project: string, config: string) => run(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', config], project);

/** The installed major of a package in the project. */
const majorIn = (project: string, name: string) =>
  Number((JSON.parse(readFileSync(join(project, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version.split('.')[0]);

/** Starts `node <file>` in the project with PORT and REDIS_URL, as a shop would (no NODE_ENV), and waits until it answers. */
async function startApp(project: string, file: string, env: Record<string, string> = {}): Promise<{ app: FixtureProcess; url: string }> {
  const port = await freePort();
  const { NODE_ENV: _test, ...rest } = userEnv();
  const app = startProcess(process.execPath, [file], { cwd: project, env: { ...rest, PORT: String(port), REDIS_URL, ...env } });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    () => app.child.exitCode !== null || fetch(url).then(() => true, () => false),
    `${file} to listen`,
    20_000,
    100,
  );
  expect(app.child.exitCode, app.stderr).to.equal(null);
  return { app, url };
}

async function stop(app: FixtureProcess): Promise<void> {
  if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGTERM');
  await app.exited;
}

describe('a shop installs the tarball: ioredis 6 and 5, Express 5 and 4', function () {
  this.timeout(600_000);

  for (const combo of MATRIX) {
    describe(comboName(combo), () => {
      let project: string;

      before(async () => {
        project = await comboProject(combo);
      });

      it('plain npm install takes those majors, and no sequelize or mysql2', () => {
        expect(majorIn(project, 'ioredis')).to.equal(combo.ioredis);
        expect(majorIn(project, 'express')).to.equal(combo.express);
        expect(existsSync(join(project, 'node_modules', 'sequelize'))).to.equal(false);
        expect(existsSync(join(project, 'node_modules', 'mysql2'))).to.equal(false);
      });

      readmeAppSuite(combo, () => project);
    });
  }
});

function readmeAppSuite(combo: Combo, projectOf: () => string): void {
  describe("the README's app", () => {
    let project: string;
    let prefix: string;

    before(async () => {
      project = projectOf();
      // Used across this suite's tests, so deleted after it rather than after each.
      prefix = uniquePrefix('readme');
      writeFileSync(join(project, 'app.ts'), readmeApp(prefix));
      writeFileSync(join(project, 'tsconfig.nodenext.json'), tsconfig({ ...NODENEXT, outDir: 'build' }, ['app.ts']));
      writeFileSync(join(project, 'tsconfig.bundler.json'), tsconfig(BUNDLER, ['app.ts']));
    });

    after(async () => {
      await deleteWithPrefix(shared.redis, prefix);
    });

    it('type-checks under NodeNext and under bundler resolution', async () => {
      await tsc(project, 'tsconfig.bundler.json');
      await tsc(project, 'tsconfig.nodenext.json');
    });

    it("ioredis's default import type-checks under bundler resolution, not under NodeNext", async () => {
      writeFileSync(join(project, 'default-import.ts'), "import Redis from 'ioredis';\nexport const redis = new Redis({ lazyConnect: true });\n");
      writeFileSync(join(project, 'tsconfig.default-nodenext.json'), tsconfig({ ...NODENEXT, noEmit: true }, ['default-import.ts']));
      writeFileSync(join(project, 'tsconfig.default-bundler.json'), tsconfig(BUNDLER, ['default-import.ts']));
      await tsc(project, 'tsconfig.default-bundler.json');
      const failed = await tsc(project, 'tsconfig.default-nodenext.json').then(
        () => '',
        (error: Error) => error.message,
      );
      expect(failed).to.include('error TS2351');
    });

    it('answers 201, a sold-out 409 in JSON (nothing logged), 400, 404, and a failed order gives its units back', async () => {
      const { app, url } = await startApp(project, 'build/app.js');
      try {
        const one = await request(url).post('/orders').send({ sku: 'tee' }).expect(201);
        expect(one.body).to.include({ sku: 'tee', qty: 1 }).and.to.have.property('holdId').that.is.a('string');
        // Declined: 402 in the app's JSON, and the two units are back at once.
        const declined = await request(url).post('/orders').send({ sku: 'tee', qty: 2, card: 'declined' }).expect(402);
        expect(declined.body).to.deep.equal({ error: { status: 402, message: 'Payment declined' } });
        await request(url).post('/orders').send({ sku: 'tee', qty: 4 }).expect(201);
        const soldOut = await request(url).post('/orders').send({ sku: 'tee' }).expect(409);
        expect(soldOut.body).to.deep.equal({
          error: { status: 409, code: 'ERR_RESERVE_STOCK_SOLD_OUT', message: 'Not enough stock for "tee"', key: 'tee', requested: 1, available: 0 },
        });
        const bad = await request(url).post('/orders').send({ sku: 'tee', qty: 0 }).expect(400);
        expect(bad.body.error).to.include({ status: 400, code: 'ERR_RESERVE_STOCK_INPUT' });
        const unknown = await request(url).post('/orders').send({ sku: 'hat' }).expect(404);
        expect(unknown.body).to.deep.equal({ error: { status: 404, message: 'No product hat' } });
        for (const res of [declined, soldOut, bad, unknown]) expect(errorBodyProblem(res), res.text).to.equal(undefined);
        expect(app.child.exitCode).to.equal(null);
        expect(app.stderr).to.equal('');
      } finally {
        await stop(app);
      }
      const store = createStockStore({ redis: shared.redis, prefix });
      expect(await store.getStock('tee')).to.equal(0);
      expect((await store.getHolds('tee')).count).to.equal(0);
    });

    if (combo.express === 4) {
      it('without its try/catch, a rejecting handler kills the process on Express 4 and leaves the hold open', async () => {
        const crashPrefix = shared.prefix();
        copyFileSync(join(__dirname, 'consumer', 'express4-rejects.mjs'), join(project, 'express4-rejects.mjs'));
        const { app, url } = await startApp(project, 'express4-rejects.mjs', { PREFIX: crashPrefix });
        await request(url).post('/orders').then(
          (res) => expect.fail(`answered ${res.status}`),
          () => undefined,
        );
        expect(await app.exited).to.not.equal(0);
        expect(app.stderr).to.include('the database is down');
        const store = createStockStore({ redis: shared.redis, prefix: crashPrefix });
        expect(await store.getHolds('tee')).to.include({ count: 1, units: 2 });
        expect(await store.getStock('tee')).to.equal(3);
      });
    }
  });
}
