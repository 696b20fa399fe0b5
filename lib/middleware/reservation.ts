import { holdLost } from '../errors';
import { settleInBackground } from '../store/settle-in-background';
import type { ExtendResult, HoldState, Reservation, SettleResult, StockStore } from '../types';

/**
 * One request's hold. Redis decides which of commit, release and expiry
 * wins; this object keeps the first word it was given (the handler's, or the
 * response's), so that a commit still being retried after a Redis blip is
 * never overridden by a release when the response ends, or the other way
 * round. A settled reservation costs no further round trip.
 */
export class HeldReservation implements Reservation {
  readonly kind = 'item';
  state: HoldState = 'held';
  private settling: Promise<SettleResult> | undefined;

  constructor(
    readonly key: string,
    readonly qty: number,
    readonly remaining: number,
    readonly holdId: string,
    readonly expiresAt: number,
    private readonly store: StockStore,
  ) {}

  private settle(action: 'commit' | 'release'): Promise<SettleResult> {
    this.settling ??= settleInBackground(this.store, this.holdId, action).then((result) => {
      this.state = result.state;
      return result;
    });
    return this.settling;
  }

  /** Rejects with a 409 when the units are no longer held, a 503 when Redis cannot answer. */
  async prepare(): Promise<SettleResult> {
    const result = await this.store.prepare(this.holdId);
    this.state = result.state;
    if (result.state !== 'prepared') throw holdLost(this.key, result.state);
    return result;
  }

  /** Never rejects: a failure is reported through `onEvent` and retried. */
  commit(): Promise<SettleResult> {
    return this.settle('commit');
  }

  /** Never rejects: a failure is reported through `onEvent` and retried; expiry is the backstop. */
  release(): Promise<SettleResult> {
    return this.settle('release');
  }

  async extend(seconds: number): Promise<ExtendResult> {
    const result = await this.store.extend(this.holdId, seconds);
    this.state = result.state;
    return result;
  }
}
