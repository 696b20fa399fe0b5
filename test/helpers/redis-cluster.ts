/**
 * A private Redis Cluster for tests: 3 masters and 3 replicas by default,
 * each a {@link RedisServer} on a free loopback port with its own folder,
 * joined by `redis-cli --cluster create`. A short node timeout lets a
 * replica take over within a few seconds of its master's death.
 *
 * Every server it starts is stopped by `dispose()`, and killed at process
 * exit if a test forgot (RedisServer's own exit hook).
 *
 * @example
 * const cluster = await RedisCluster.start();
 * const client = cluster.client();
 * const slot = await cluster.slotOf('stock:{sku}');
 * const master = await cluster.masterOfSlot(slot);
 * await master.kill();
 * const promoted = await cluster.waitForPromotion(master, slot);
 * await cluster.dispose();
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis, type Cluster, type ClusterOptions } from 'ioredis';
import { connectCluster } from '../../example/redis';
import { RedisServer } from './redis-server';
import { waitFor } from './wait';

const run = promisify(execFile);

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a silent master has before its replica takes over. Default 1000 ms. */
  nodeTimeoutMs?: number;
  /** How long to wait for the cluster (or a failover) to settle. Default 30 s. */
  settleTimeoutMs?: number;
}

/** A Cluster client with the example's failover options (example/redis.ts); a node dying is no error event here. */
export function connectTestCluster(nodes: string, options: ClusterOptions = {}): Cluster {
  const cluster = connectCluster(nodes, options);
  // The commands a dead node fails report on their own.
  cluster.on('error', () => {});
  return cluster;
}

/** Runs `use` on a short-lived plain connection to one node. */
async function onNode<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** `field:value` lines of CLUSTER INFO or INFO as a record. */
function infoFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

type SlotRange = [start: number, end: number, master: [host: string, port: number, ...rest: unknown[]], ...replicas: unknown[]];

export class RedisCluster {
  private constructor(
    readonly servers: RedisServer[],
    private readonly options: Required<RedisClusterOptions>,
  ) {}

  /** Starts the servers, creates the cluster and waits until every node serves every slot. */
  static async start(options: RedisClusterOptions = {}): Promise<RedisCluster> {
    const settings: Required<RedisClusterOptions> = {
      masters: 3,
      replicasPerMaster: 1,
      nodeTimeoutMs: 1000,
      settleTimeoutMs: 30_000,
      ...options,
    };
    const count = settings.masters * (1 + settings.replicasPerMaster);
    const args = [
      '--cluster-enabled', 'yes',
      '--cluster-config-file', 'nodes.conf',
      '--cluster-node-timeout', String(settings.nodeTimeoutMs),
      // A replica of a master that died takes over however stale it is: a test
      // measures what that loses rather than leaving the slots unserved.
      '--cluster-replica-validity-factor', '0',
    ];
    const servers: RedisServer[] = [];
    const cluster = new RedisCluster(servers, settings);
    try {
      for (let i = 0; i < count; i++) servers.push(await RedisServer.start({ args }));
      await run('redis-cli', [
        '--cluster', 'create',
        ...servers.map((s) => `127.0.0.1:${s.port}`),
        '--cluster-replicas', String(settings.replicasPerMaster),
        '--cluster-yes',
      ]);
      await cluster.waitUntilSettled();
      return cluster;
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
  }

  /** The servers still running. */
  get live(): RedisServer[] {
    return this.servers.filter((s) => s.running);
  }

  /** `127.0.0.1:p1,127.0.0.1:p2,...`: the value of REDIS_CLUSTER_NODES for this cluster. */
  get nodeList(): string {
    return this.live.map((s) => `${s.host}:${s.port}`).join(',');
  }

  /** An ioredis Cluster client of this cluster (see {@link connectTestCluster}). */
  client(options: ClusterOptions = {}): Cluster {
    return connectTestCluster(this.nodeList, options);
  }

  private anyLive(): RedisServer {
    const [any] = this.live;
    if (!any) throw new Error('no node of the cluster is running');
    return any;
  }

  private async slotRanges(): Promise<SlotRange[]> {
    return (await this.command(this.anyLive(), 'CLUSTER', 'SLOTS')) as SlotRange[];
  }

  private serverOn(port: number): RedisServer {
    const server = this.servers.find((s) => s.port === port);
    if (!server) throw new Error(`no server of this cluster on port ${port}`);
    return server;
  }

  /** The server that serves `slot` now, as a live node sees the slot map. */
  async masterOfSlot(slot: number): Promise<RedisServer> {
    const ranges = await this.slotRanges();
    const range = ranges.find(([start, end]) => slot >= start && slot <= end);
    if (!range) throw new Error(`slot ${slot} is not served`);
    return this.serverOn(Number(range[2][1]));
  }

  /** The hash slot of `key` (CLUSTER KEYSLOT). */
  async slotOf(key: string): Promise<number> {
    return Number(await this.command(this.anyLive(), 'CLUSTER', 'KEYSLOT', key));
  }

  /** The server that serves `key`'s slot now. */
  async masterOfKey(key: string): Promise<RedisServer> {
    return this.masterOfSlot(await this.slotOf(key));
  }

  /** The masters, as a live node sees them. */
  async masters(): Promise<RedisServer[]> {
    const ranges = await this.slotRanges();
    return [...new Set(ranges.map((range) => Number(range[2][1])))].map((port) => this.serverOn(port));
  }

  /** Sends one command to one node (for CLUSTER SETSLOT, SCRIPT FLUSH, MIGRATE...). */
  command(server: RedisServer, ...args: (string | number)[]): Promise<unknown> {
    return onNode(server.port, (r) => r.call(String(args[0]), ...args.slice(1)));
  }

  /** How many error replies of each kind (ASK, MOVED, TRYAGAIN, NOSCRIPT...) a node has sent (INFO errorstats). */
  async errorCounts(server: RedisServer): Promise<Record<string, number>> {
    const fields = infoFields(String(await this.command(server, 'INFO', 'errorstats')));
    const counts: Record<string, number> = {};
    for (const [name, value] of Object.entries(fields)) {
      const count = /count=(\d+)/.exec(value)?.[1];
      if (name.startsWith('errorstat_') && count) counts[name.slice('errorstat_'.length)] = Number(count);
    }
    return counts;
  }

  /** Every replica of `master`, as it lists them (INFO replication). */
  async replicasOf(master: RedisServer): Promise<RedisServer[]> {
    const info = String(await this.command(master, 'INFO', 'replication'));
    const ports = [...info.matchAll(/^slave\d+:.*port=(\d+)/gm)].map((match) => Number(match[1]));
    if (ports.length === 0) throw new Error(`the node on port ${master.port} has no replica`);
    return ports.map((port) => this.serverOn(port));
  }

  /** A node's cluster id (CLUSTER MYID). */
  async idOf(server: RedisServer): Promise<string> {
    return String(await this.command(server, 'CLUSTER', 'MYID'));
  }

  /**
   * Moves `slot` to the master `to` by hand, as `redis-cli --cluster reshard`
   * does: IMPORTING/MIGRATING, then one MIGRATE a key, awaiting `betweenKeys`
   * after each (so a test can let traffic meet a half-moved slot, where the
   * old master answers ASK and a multi-key command TRYAGAIN), then SETSLOT
   * NODE on every master. Returns how many keys moved.
   */
  async moveSlot(slot: number, to: RedisServer, betweenKeys: () => Promise<void> = async () => {}): Promise<number> {
    const from = await this.masterOfSlot(slot);
    if (from === to) return 0;
    const masters = await this.masters();
    const [fromId, toId] = [await this.idOf(from), await this.idOf(to)];
    await this.command(to, 'CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
    await this.command(from, 'CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
    let moved = 0;
    for (;;) {
      const keys = (await this.command(from, 'CLUSTER', 'GETKEYSINSLOT', slot, 1)) as string[];
      const [key] = keys;
      if (key === undefined) break;
      await this.command(from, 'MIGRATE', to.host, to.port, key, 0, 5000);
      moved++;
      await betweenKeys();
    }
    // The new owner first, then the old one, then the rest (the order redis-cli uses).
    const others = masters.filter((m) => m !== to && m !== from);
    for (const master of [to, from, ...others]) await this.command(master, 'CLUSTER', 'SETSLOT', slot, 'NODE', toId);
    await this.waitUntilSettled();
    return moved;
  }

  /** True when this live node says the cluster is ok, serves every slot and, as a replica, is in sync. */
  private async settledAt(server: RedisServer): Promise<boolean> {
    try {
      return await onNode(server.port, async (r) => {
        const info = infoFields(String(await r.call('CLUSTER', 'INFO')));
        const known = Number(info.cluster_known_nodes);
        if (info.cluster_state !== 'ok' || info.cluster_slots_ok !== '16384' || known < this.live.length) return false;
        const replication = infoFields(await r.info('replication'));
        return replication.role === 'master' || replication.master_link_status === 'up';
      });
    } catch {
      return false;
    }
  }

  private async allSettled(): Promise<boolean> {
    return (await Promise.all(this.live.map((s) => this.settledAt(s)))).every(Boolean);
  }

  /** Waits until every live node says the cluster is ok, with all 16384 slots served and replicas in sync. */
  async waitUntilSettled(): Promise<void> {
    await waitFor(
      () => this.allSettled(),
      'every node of the cluster to report cluster_state:ok with all slots served',
      this.options.settleTimeoutMs,
      100,
    );
  }

  /**
   * Waits until the slots `dead` served are served by another node (its
   * replica, promoted) and the cluster is ok again; returns the new master.
   */
  async waitForPromotion(dead: RedisServer, slot: number): Promise<RedisServer> {
    let promoted: RedisServer | undefined;
    await waitFor(
      async () => {
        promoted = await this.masterOfSlot(slot).catch(() => undefined);
        return promoted !== undefined && promoted !== dead && (await this.allSettled());
      },
      `a replica of the node on port ${dead.port} to take over slot ${slot}`,
      this.options.settleTimeoutMs,
      100,
    );
    return promoted as RedisServer;
  }

  /** Stops every server this cluster started and removes their folders. */
  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.dispose().catch(() => undefined)));
  }
}
