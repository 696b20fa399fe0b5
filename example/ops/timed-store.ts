import type { CartResult, ReserveResult, StockStore } from '../../lib';
import type { ReservationOutcome } from './metrics';

function outcomeOf(result: ReserveResult | CartResult): ReservationOutcome {
  if (result.status === 'insufficient') return 'sold_out';
  // Refused at a per-customer limit: nothing was reserved.
  if (result.status === 'limit') return 'limit';
  return 'reserved';
}

/**
 * `store`, with every `reserve()` and `reserveCart()` timed: the
 * reserveStock middleware makes one per order, so this is the gate's
 * latency as the order routes see it, a first look-up's database load
 * included. Everything else is the store's own, through the prototype.
 */
export function timeReservations(
  store: StockStore,
  observe: (seconds: number, outcome: ReservationOutcome) => void,
): StockStore {
  const timed = async <T extends ReserveResult | CartResult>(call: () => Promise<T>): Promise<T> => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await call();
      observe(elapsed(), outcomeOf(result));
      return result;
    } catch (error) {
      observe(elapsed(), 'failed');
      throw error;
    }
  };
  const shop = Object.create(store) as StockStore;
  shop.reserve = (...args) => timed(() => store.reserve(...args));
  shop.reserveCart = (...args) => timed(() => store.reserveCart(...args));
  return shop;
}
