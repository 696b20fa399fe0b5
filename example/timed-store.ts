import type { ReserveResult, StockStore } from '../lib';
import type { ReservationOutcome } from './metrics';

function outcomeOf(result: ReserveResult): ReservationOutcome {
  return result.status === 'insufficient' ? 'sold_out' : 'reserved';
}

/**
 * `store`, with every `reserve()` timed: the reserveStock middleware calls
 * it once per order, so this is the gate's latency as the order route sees
 * it, a first look-up's database load included. A Proxy rather than a copy:
 * the store's other methods and getters keep their own `this`.
 */
export function timeReservations(
  store: StockStore,
  observe: (seconds: number, outcome: ReservationOutcome) => void,
): StockStore {
  const reserve: StockStore['reserve'] = async (...args) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    try {
      const result = await store.reserve(...args);
      observe(elapsed(), outcomeOf(result));
      return result;
    } catch (error) {
      observe(elapsed(), 'failed');
      throw error;
    }
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'reserve') return reserve;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
