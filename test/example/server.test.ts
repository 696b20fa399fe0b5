import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { RedisServer } from '../helpers/redis-server';
import { sleep, waitFor } from '../helpers/wait';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

interface RunningServer {
  base: string;
  child: ChildProcess;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** All it printed so far, stdout and stderr. */
  output(): string;
}

/** Starts example/server.ts on a free port with `env` added, once it says it listens. */
async function startServer(env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'example/server.ts'], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  await new Promise<void>((resolve, reject) => {
    // The last line printed at start is the one with the metrics address.
    child.stdout.on('data', () => output.includes('/metrics') && resolve());
    void exited.then(() => reject(new Error(`server exited before listening:\n${output}`)));
  });
  expect(output).to.include(`listening on http://127.0.0.1:${port}`);
  return { base: `http://127.0.0.1:${port}`, child, exited, output: () => output };
}

/** A POST /products with a body the route refuses: a 400 means the token passed and nothing was created. */
async function invalidProduct(base: string, authorization?: string): Promise<number> {
  const res = await fetch(`${base}/products`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization && { authorization }) },
    body: JSON.stringify({ name: 'no sku', stock: 1 }),
  });
  return res.status;
}

describe('example server: start and clean shutdown', function () {
  this.timeout(60_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serves on PORT, and on ${signal} closes everything and exits 0`, async () => {
      const server = await startServer();
      try {
        const stats = await fetch(`${server.base}/stats`);
        expect(stats.status).to.equal(200);
        expect(await stats.json()).to.deep.equal({ dbTransactions: 0, paid: 0, repeated: 0, declined: 0, guardRefusals: 0, failed: 0 });
        const missing = await fetch(`${server.base}/products/t-none-${randomBytes(4).toString('hex')}`);
        expect(missing.status).to.equal(404);
        expect(((await missing.json()) as { error: { status: number } }).error.status).to.equal(404);
      } finally {
        server.child.kill(signal);
      }
      const [code, killedBy] = await server.exited;
      expect({ code, killedBy }, server.output()).to.deep.equal({ code: 0, killedBy: null });
      expect(server.output()).to.include(`${signal}: closing the server, Redis and the database pool`);
    });
  }

  it('without ADMIN_TOKEN: makes a random token, prints it, and the admin routes take only it', async () => {
    const server = await startServer({ ADMIN_TOKEN: '' });
    try {
      const printed = /admin routes take this one: ([A-Za-z0-9_-]+)/.exec(server.output());
      expect(printed, server.output()).to.not.equal(null);
      const token = (printed as RegExpExecArray)[1] as string;
      expect(token.length).to.be.at.least(32);
      expect(await invalidProduct(server.base)).to.equal(401);
      expect(await invalidProduct(server.base, 'Bearer guess')).to.equal(403);
      expect(await invalidProduct(server.base, `Bearer ${token}`)).to.equal(400);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('with ADMIN_TOKEN: takes it, prints no token, and says where the storefront and dashboard are', async () => {
    const token = randomBytes(16).toString('hex');
    const server = await startServer({ ADMIN_TOKEN: token });
    try {
      expect(server.output()).to.not.include(token);
      expect(server.output()).to.include(`dashboard ${server.base}/dashboard`);
      expect(await invalidProduct(server.base)).to.equal(401);
      expect(await invalidProduct(server.base, `Bearer ${token}`)).to.equal(400);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('Redis stopped, then started again: one log line each way, never "Unhandled error event"', async () => {
    const redis = await RedisServer.start();
    // A single Redis of its own, also in the cluster run.
    const server = await startServer({ REDIS_URL: redis.url, REDIS_CLUSTER_NODES: '' });
    const count = (text: string) => server.output().split(text).length - 1;
    try {
      expect(count('"Redis ready"')).to.equal(1);
      await redis.stop();
      await waitFor(() => count('"Redis down') > 0, 'the outage to be logged', 10_000);
      await sleep(2000); // reconnection attempts fail meanwhile, each an error event
      await redis.start();
      await waitFor(() => count('"Redis ready"') === 2, 'the reconnection to be logged', 15_000);
      expect(count('"Redis down')).to.equal(1);
      expect(server.output()).not.to.include('Unhandled error event');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
      await redis.dispose();
    }
  });

  it('a shutdown held up by a request that never ends: exits 1 once SHUTDOWN_TIMEOUT_MS has passed', async () => {
    const server = await startServer({ SHUTDOWN_TIMEOUT_MS: '1500' });
    const { port } = new URL(server.base);
    // An order whose body never arrives: server.close() waits for it.
    const stalled = connect(Number(port), '127.0.0.1');
    stalled.on('error', () => undefined);
    await once(stalled, 'connect');
    stalled.write('POST /orders HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"sku":');
    await sleep(1000); // the server has read the request's head
    try {
      server.child.kill('SIGTERM');
      const [code, killedBy] = await server.exited;
      expect({ code, killedBy }, server.output()).to.deep.equal({ code: 1, killedBy: null });
      expect(server.output()).to.include('shutdown did not finish within 1500 ms; exiting anyway');
    } finally {
      stalled.destroy();
    }
  });
});
