import mysql from 'mysql2/promise';
import type { Reporter } from './reporter';

/**
 * The surge needs a pool of hundreds of connections; MariaDB's default
 * max_connections (151) would make the server, not the row lock, the queue.
 * `ensure()` raises the limit when it is below what the run needs (checked
 * again before each server starts, in case something else lowered it);
 * `restore()` puts back the value found, unless someone changed it since.
 */
export class ConnectionLimit {
  private original: number | undefined;
  private raisedTo: number | undefined;

  constructor(
    private readonly url: string,
    private readonly needed: number,
    private readonly reporter: Reporter,
  ) {}

  private async query<T>(sql: string, values: unknown[] = []): Promise<T> {
    const conn = await mysql.createConnection(this.url);
    try {
      const [rows] = await conn.query(sql, values);
      return rows as T;
    } finally {
      await conn.end();
    }
  }

  async ensure(): Promise<void> {
    const [row] = await this.query<{ n: number }[]>('SELECT @@GLOBAL.max_connections AS n');
    const current = Number(row?.n);
    if (current >= this.needed) return;
    await this.query('SET GLOBAL max_connections = ?', [this.needed]);
    this.original ??= current;
    this.raisedTo = this.needed;
    this.reporter.log(`MariaDB max_connections ${current} -> ${this.needed} for this run`);
  }

  async restore(): Promise<void> {
    if (this.original === undefined) return;
    await this.query('SET GLOBAL max_connections = IF(@@GLOBAL.max_connections = ?, ?, @@GLOBAL.max_connections)', [
      this.raisedTo,
      this.original,
    ]);
  }
}
