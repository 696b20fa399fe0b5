/**
 * A private Redis master with one replica on free loopback ports, for the
 * bench's `waitReplicas` runs: WAIT needs a replica, and the shared Redis
 * the rest of the bench uses has none (nor may the bench give it one).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { RedisServer } from '../test/helpers/redis-server';

/** How long the replica may take to finish its first sync. */
const LINK_TIMEOUT_MS = 15_000;

export class ReplicatedRedis {
  private constructor(
    private readonly master: RedisServer,
    private readonly replica: RedisServer,
  ) {}

  /** Starts both servers and resolves once the replica's link to the master is up. */
  static async start(): Promise<ReplicatedRedis> {
    const master = await RedisServer.start();
    let replica: RedisServer | undefined;
    try {
      replica = await RedisServer.start({ args: ['--replicaof', master.host, String(master.port)] });
      await waitForLink(replica);
      return new ReplicatedRedis(master, replica);
    } catch (error) {
      await replica?.dispose();
      await master.dispose();
      throw error;
    }
  }

  get masterUrl(): string {
    return this.master.url;
  }

  /** WAIT commands the master has run since it started (INFO commandstats). */
  async waitCalls(): Promise<number> {
    const redis = new Redis(this.master.url);
    try {
      return Number(/cmdstat_wait:calls=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
    } finally {
      await redis.quit();
    }
  }

  async dispose(): Promise<void> {
    await this.replica.dispose();
    await this.master.dispose();
  }
}

async function waitForLink(replica: RedisServer): Promise<void> {
  const redis = new Redis(replica.url);
  try {
    const deadline = Date.now() + LINK_TIMEOUT_MS;
    while (!(await redis.info('replication')).includes('master_link_status:up')) {
      if (Date.now() > deadline) throw new Error(`the replica on port ${replica.port} did not sync within ${LINK_TIMEOUT_MS} ms`);
      await sleep(50);
    }
  } finally {
    await redis.quit();
  }
}
