import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
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
        expect(await stats.json()).to.deep.equal({ dbTransactions: 0 });
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
      const printed = /admin routes take this one: (\S+)/.exec(server.output());
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
});
