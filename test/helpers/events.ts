import type { StockEvent } from '../../lib';

/** Records every event of a store, for `onEvent`. */
export class EventLog {
  readonly events: StockEvent[] = [];
  readonly onEvent = (event: StockEvent): void => {
    this.events.push(event);
  };

  of<T extends StockEvent['type']>(type: T): Extract<StockEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<StockEvent, { type: T }> => e.type === type);
  }

  count(type: StockEvent['type']): number {
    return this.of(type).length;
  }
}
