/**
 * Mocha global fixture of `npm run test:cluster`: starts one private Redis
 * Cluster (3 masters, 3 replicas) before any test and stops it after the
 * last. It sets REDIS_CLUSTER_NODES, so that every suite this run includes
 * (see .mocharc.json here) gets Cluster clients from ../helpers/redis.ts.
 */
import { RedisCluster } from '../helpers/redis-cluster';

let cluster: RedisCluster | undefined;

/** The cluster the run's suites share (they must leave it serving every slot). */
export function sharedCluster(): RedisCluster {
  if (!cluster) throw new Error('sharedCluster: the cluster suite has not started its cluster (run npm run test:cluster)');
  return cluster;
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
