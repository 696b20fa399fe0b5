import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('example server: start and clean shutdown', function () {
  this.timeout(60_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves on PORT, and on ${signal} closes everything and exits 0`, async () => {
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', 'example/server.ts'], {
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk));
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      try {
        await new Promise<void>((resolve, reject) => {
          child.stdout.on('data', () => output.includes('listening on') && resolve());
          void exited.then(() => reject(new Error(`server exited before listening:\n${output}`)));
        });
        expect(output).to.include(`listening on http://127.0.0.1:${port}`);
        const base = `http://127.0.0.1:${port}`;
        const stats = await fetch(`${base}/stats`);
        expect(stats.status).to.equal(200);
        expect(await stats.json()).to.deep.equal({ dbTransactions: 0 });
        const missing = await fetch(`${base}/products/t-none-${randomBytes(4).toString('hex')}`);
        expect(missing.status).to.equal(404);
        expect(((await missing.json()) as { error: { status: number } }).error.status).to.equal(404);
      } finally {
        child.kill(signal);
      }
      const [code, killedBy] = await exited;
      expect({ code, killedBy }, output).to.deep.equal({ code: 0, killedBy: null });
      expect(output).to.include(`${signal}: closing the server, Redis and the database pool`);
    });
  }
});
