import { giveBack } from '../store/give-back';
import type { Reservation, StockStore } from '../types';

const DONE = Promise.resolve();

/**
 * One reservation's units, owned by one request. Its state moves once, from
 * `held` to `committed` or `released`, so however commit, release and the
 * response race, the units go back at most once.
 */
export class HeldReservation implements Reservation {
  state: Reservation['state'] = 'held';

  constructor(
    readonly key: string,
    readonly qty: number,
    readonly remaining: number,
    /** `null` for unlimited stock: nothing was deducted, nothing goes back. */
    private readonly store: StockStore | null,
  ) {}

  commit(): Promise<void> {
    if (this.state === 'held') this.state = 'committed';
    return DONE;
  }

  /** Never rejects: a failed give-back is reported through the events hook. */
  release(): Promise<void> {
    if (this.state !== 'held') return DONE;
    this.state = 'released';
    return this.store ? giveBack(this.store, this.key, this.qty) : DONE;
  }
}
