/**
 * A contender's server process: `node --import tsx bench/server-main.ts`,
 * with BENCH_CONTENDER and BENCH_SERVER_CONFIG in its environment. It listens
 * on a free loopback port and answers the runner over IPC (see process.ts).
 */
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Contender } from './results';
import type { ChildReply, ChildRequest } from './process';
import type { ContenderServer, ServerConfig, ServerFactory } from './servers/types';

async function loadFactory(contender: Contender): Promise<ServerFactory> {
  switch (contender) {
    case 'bare':
      return (await import('./servers/bare')).createServer;
    case 'gate':
      return (await import('./servers/gate')).createServer;
    case 'raw-seed':
      return (await import('./servers/raw-seed')).createServer;
    case 'store-route':
      return (await import('./servers/store-route')).createServer;
    case 'checkout':
      return (await import('./servers/checkout')).createServer;
    case 'mysql-row':
      return (await import('./servers/mysql-row')).createServer;
    case 'mysql-buckets':
      return (await import('./servers/mysql-buckets')).createServer;
    case 'decrby':
      return (await import('./servers/decrby')).createServer;
    default:
      throw new Error(`unknown contender ${String(contender)}`);
  }
}

function send(message: ChildReply): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const contender = process.env.BENCH_CONTENDER as Contender;
  const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}') as ServerConfig;
  const contenderServer: ContenderServer = await (await loadFactory(contender))(config);

  let inFlight = 0;
  let requests = 0;
  const server = createHttpServer((req, res) => {
    inFlight++;
    requests++;
    // A request is done when the app ends its response, not when the client
    // hangs up: the load generator closes its sockets at the end of a run
    // while the app may still be working on what it received, and the audit
    // and cleanup must wait for that work.
    let done = false;
    const end = res.end;
    res.end = function endAndCount(this: typeof res, ...args: Parameters<typeof res.end>) {
      if (!done) {
        done = true;
        inFlight--;
      }
      return end.apply(this, args);
    } as typeof res.end;
    contenderServer.handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  const stop = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await contenderServer.close();
  };

  process.on('message', (message: ChildRequest) => {
    const reply = async (): Promise<unknown> => {
      switch (message.type) {
        case 'prepare':
          return contenderServer.prepare(message.items);
        case 'stats':
          return {
            dbTransactions: contenderServer.dbTransactions(),
            redisCommands: contenderServer.redisCommands(),
            busy: contenderServer.busy(),
            inFlight,
            // Open sockets: a request the client sent just before hanging up
            // may still be unread; it is served once read, like any other.
            connections: await new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n ?? 0))),
            requests,
            rss: process.memoryUsage().rss,
          };
        case 'audit':
          return contenderServer.audit(message.items);
        case 'cleanup':
          return contenderServer.cleanup(message.items);
        case 'stop':
          return stop();
        default:
          throw new Error(`unknown request ${(message as { type: string }).type}`);
      }
    };
    reply().then(
      (result) => {
        send({ id: message.id, ok: true, result });
        if (message.type === 'stop') process.disconnect();
      },
      (error: unknown) => send({ id: message.id, ok: false, error: String((error as Error)?.stack ?? error) }),
    );
  });
  // The runner went away: do not linger.
  process.on('disconnect', () => {
    setTimeout(() => process.exit(0), 2000).unref();
  });
  send({ id: 0, ok: true, result: { port } });
}

main().catch((error: unknown) => {
  send({ id: 0, ok: false, error: String((error as Error)?.stack ?? error) });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
});
