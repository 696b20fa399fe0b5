import type { CartReservation, CartSettleResult, CartState, HoldState, ReservedLine, SettleResult, StockStore } from '../types';
import { HeldReservation } from './reservation';

function common(states: HoldState[]): CartState {
  return states.every((state) => state === states[0]) ? (states[0] as HoldState) : 'mixed';
}

function together(lines: SettleResult[]): CartSettleResult {
  return { state: common(lines.map((line) => line.state)), changed: lines.some((line) => line.changed), lines };
}

/**
 * A request's cart: a {@link HeldReservation} per line, each keeping the
 * first word it is given, settled together.
 */
export class HeldCart implements CartReservation {
  readonly kind = 'cart';
  readonly holds: readonly HeldReservation[];

  constructor(
    readonly lines: readonly ReservedLine[],
    store: StockStore,
  ) {
    this.holds = lines.map((l) => new HeldReservation(l.key, l.qty, l.remaining, l.holdId, l.expiresAt, store));
  }

  get state(): CartState {
    return common(this.holds.map((hold) => hold.state));
  }

  get expiresAt(): number {
    return Math.min(...this.lines.map((line) => line.expiresAt));
  }

  async prepare(): Promise<CartSettleResult> {
    return together(await Promise.all(this.holds.map((hold) => hold.prepare())));
  }

  async commit(): Promise<CartSettleResult> {
    return together(await Promise.all(this.holds.map((hold) => hold.commit())));
  }

  async release(): Promise<CartSettleResult> {
    return together(await Promise.all(this.holds.map((hold) => hold.release())));
  }

  async extend(seconds: number): Promise<{ state: CartState; expiresAt: number | null }> {
    const results = await Promise.all(this.holds.map((hold) => hold.extend(seconds)));
    const extended = results.every((result) => result.expiresAt !== null);
    return {
      state: common(results.map((result) => result.state)),
      expiresAt: extended ? Math.min(...results.map((result) => result.expiresAt as number)) : null,
    };
  }
}
