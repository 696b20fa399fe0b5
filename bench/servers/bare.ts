/**
 * bare: the HTTP ceiling. The same Express route as the gate's (JSON body
 * parser, 201 with a small JSON body), with nothing behind it.
 */
import express from 'express';
import { jsonErrors } from './common';
import type { ServerFactory } from './types';

export const createServer: ServerFactory = async () => {
  const app = express();
  app.post('/orders', express.json(), (_req, res) => {
    res.status(201).json({ ok: true });
  });
  app.use(jsonErrors);
  return {
    handler: app,
    dbTransactions: () => 0,
    redisCommands: () => 0,
    busy: () => 0,
    prepare: async () => {},
    audit: async () => ({ sold: null, oversold: 0, notes: [] }),
    cleanup: async () => {},
    close: async () => {},
  };
};
