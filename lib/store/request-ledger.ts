import type { StockCommands } from '../scripts/commands';
import type { AnsweredRequest, RequestId, RequestLedger, RequestRecord } from '../types';
import { toError } from '../util/events';
import { requestKey } from './keys';
import type { StoreConfig } from './options';
import type { RedisCaller } from './redis-caller';

/**
 * Idempotency records in Redis, one JSON string per idempotency key and scope. Every
 * failure is also reported through the events hook.
 */
export class RedisRequestLedger implements RequestLedger {
  constructor(
    private readonly config: StoreConfig,
    private readonly commands: StockCommands,
    private readonly caller: RedisCaller,
  ) {}

  private run<T>(send: () => Promise<T>): Promise<T> {
    return this.caller.run(send).catch((error: unknown) => {
      this.config.emit?.({ type: 'error', operation: 'idempotency', error: toError(error) });
      throw error;
    });
  }

  async claim(request: RequestId, fingerprint: string, runningSeconds: number): Promise<RequestRecord | null> {
    const running: RequestRecord = { state: 'running', fingerprint };
    const key = requestKey(this.config.prefix, request.key, request.scope);
    const existing = await this.run(() =>
      this.commands.claimRequest(key, JSON.stringify(running), runningSeconds * 1000),
    );
    return existing === null ? null : (JSON.parse(existing) as RequestRecord);
  }

  async complete(request: RequestId, record: AnsweredRequest, seconds: number): Promise<void> {
    const key = requestKey(this.config.prefix, request.key, request.scope);
    await this.run(() => this.config.redis.set(key, JSON.stringify(record), 'EX', seconds));
  }

  async abandon(request: RequestId): Promise<void> {
    const key = requestKey(this.config.prefix, request.key, request.scope);
    await this.run(() => this.config.redis.del(key));
  }
}
