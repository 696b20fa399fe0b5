import { toError } from '../util/events';
import { masterOf } from './cluster';
import type { StoreConfig } from './options';
import type { RedisCaller } from './redis-caller';

/** How long the store stops sending WAIT to a master whose replicas fell short. */
export const WAIT_PAUSE_MS = 1000;

/**
 * `waitReplicas`: after a write the store acknowledges (a reservation, a
 * cart, a prepare, a commit), Redis WAIT on the item's master until that
 * many replicas have this connection's writes. Never fails the write: a
 * shortfall or an error is reported as an `error` event.
 * WAIT holds up the connection it runs on, and every command for that
 * master queues behind it: after a shortfall (a master left without its
 * replicas, say just after a failover) no WAIT goes to that master for
 * WAIT_PAUSE_MS, instead of every reservation paying the whole timeout.
 * The store makes one only with `waitReplicas` > 0, so that without it the
 * hot path spends nothing on replicas.
 */
export class ReplicaWait {
  /** Masters whose replicas fell short: no WAIT on them until then (ms). */
  private readonly pausedUntil = new WeakMap<object, number>();

  constructor(
    private readonly config: StoreConfig,
    private readonly caller: RedisCaller,
  ) {}

  async after(key: string, figureKey: string): Promise<void> {
    const { redis, waitReplicas, waitTimeoutMs } = this.config;
    const master = masterOf(redis, figureKey);
    if (master !== null && (this.pausedUntil.get(master) ?? 0) > Date.now()) return;
    try {
      const acked = master === null ? 0 : await this.caller.run(() => master.wait(waitReplicas, waitTimeoutMs));
      if (acked < waitReplicas) {
        throw new Error(
          `Only ${acked} of ${waitReplicas} replicas had the write within ${waitTimeoutMs} ms; not waiting on this master for ${WAIT_PAUSE_MS} ms`,
        );
      }
    } catch (error) {
      if (master !== null) this.pausedUntil.set(master, Date.now() + WAIT_PAUSE_MS);
      this.config.emit?.({ type: 'error', operation: 'replicate', key, error: toError(error) });
    }
  }
}
