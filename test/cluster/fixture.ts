/**
 * Mocha global fixture of `npm run test:cluster`: starts one private Redis
 * Cluster (3 masters, 3 replicas) before any test and stops it after the
 * last. It sets REDIS_CLUSTER_NODES, so that every suite this run includes
 * (see .mocharc.json here) gets Cluster clients from ../helpers/redis.ts.
 */
import { stockKeys } from '../../lib';
import { RedisCluster } from '../helpers/redis-cluster';
import type { RedisServer } from '../helpers/redis-server';

let cluster: RedisCluster | undefined;

/** The cluster the run's suites share (they must leave it serving every slot). */
export function sharedCluster(): RedisCluster {
  if (!cluster) throw new Error('sharedCluster: the cluster suite has not started its cluster (run npm run test:cluster)');
  return cluster;
}

/** `count` (at most the number of masters) item names `<label>-<n>` under `prefix`, each served by another master. */
export async function itemsOnDistinctMasters(prefix: string, count: number, label: string): Promise<string[]> {
  const cluster = sharedCluster();
  const byMaster = new Map<RedisServer, string>();
  for (let i = 0; byMaster.size < count; i++) {
    const master = await cluster.masterOfKey(stockKeys(prefix, `${label}-${i}`).stock);
    if (!byMaster.has(master)) byMaster.set(master, `${label}-${i}`);
  }
  return [...byMaster.values()];
}

export async function mochaGlobalSetup(): Promise<void> {
  cluster = await RedisCluster.start();
  process.env.REDIS_CLUSTER_NODES = cluster.nodeList;
  console.log(`  Redis Cluster of ${cluster.servers.length} nodes on ${cluster.nodeList}`);
}

export async function mochaGlobalTeardown(): Promise<void> {
  await cluster?.dispose();
  cluster = undefined;
}
