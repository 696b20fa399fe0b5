import type { RequestListener } from 'node:http';

/** What the runner hands a contender's server process. */
export interface ServerConfig {
  runId: string;
  redisUrl: string;
  mysqlUrl: string;
  /** Size of the database pool. */
  poolMax: number;
  /** Redis key prefix of this server: unique per run and contender. */
  prefix: string;
}

/** One item to sell, with its units. */
export interface Item {
  sku: string;
  stock: number;
}

/** What the data says was sold, checked after a run. */
export interface Audit {
  /** Units sold according to the source of truth; null where nothing is sold (bare). */
  sold: number | null;
  /** Units sold beyond the stock, summed over the items. */
  oversold: number;
  /** Anything that does not add up, for the report. */
  notes: string[];
}

/** A contender's server: an HTTP handler for `POST /orders` and its housekeeping. */
export interface ContenderServer {
  handler: RequestListener;
  /** Database transactions this server has run (its own counter). */
  dbTransactions(): number;
  /** Commands this server has sent Redis (its own counter; a script's call is one). */
  redisCommands(): number;
  /** Database connections in use or awaited: work still going on after the load stopped. */
  busy(): number;
  /** Creates the items (database rows, Redis figures) before a run. */
  prepare(items: Item[]): Promise<void>;
  /** Reads back what was sold, once the run has drained. */
  audit(items: Item[]): Promise<Audit>;
  /** Removes the items' rows and keys. */
  cleanup(items: Item[]): Promise<void>;
  close(): Promise<void>;
}

export type ServerFactory = (config: ServerConfig) => Promise<ContenderServer>;
