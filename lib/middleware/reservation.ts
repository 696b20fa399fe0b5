import { settleInBackground } from '../store/settle-in-background';
import type { ExtendResult, HoldState, Reservation, SettleResult, StockStore } from '../types';

/**
 * One request's hold. Redis decides which of commit, release and expiry
 * wins; this object only remembers the last answer, so that a settled
 * reservation costs no further round trip.
 */
export class HeldReservation implements Reservation {
  state: HoldState = 'held';

  constructor(
    readonly key: string,
    readonly qty: number,
    readonly remaining: number,
    readonly holdId: string,
    readonly expiresAt: number,
    private readonly store: StockStore,
  ) {}

  private settle(action: 'commit' | 'release'): Promise<SettleResult> {
    if (this.state !== 'held') return Promise.resolve({ state: this.state, changed: false });
    return settleInBackground(this.store, this.holdId, action).then((result) => {
      this.state = result.state;
      return result;
    });
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
    if (result.state !== 'held') this.state = result.state;
    return result;
  }
}
