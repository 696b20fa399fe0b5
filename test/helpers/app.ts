import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler, type Express } from 'express';

/**
 * Answers every error as JSON with its status and its own enumerable props
 * (code, key, requested, available...), the way a shop would log it.
 */
export const jsonErrors: ErrorRequestHandler = (err, _req, res, _next) => {
  const status = typeof err?.status === 'number' ? err.status : 500;
  const props = JSON.parse(JSON.stringify(err ?? {})) as Record<string, unknown>;
  res.status(status).json({ ...props, status, message: String(err?.message ?? err) });
};

/** An express app listening on a loopback port, with a large accept backlog. */
export async function listen(app: Express): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', 2048, (error?: Error) =>
      error ? reject(error) : resolve(s),
    );
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export { express };
