import type { HoldState } from '../types';
import { UNLIMITED_STOCK } from '../validation/input';

/**
 * The reserve scripts' answer codes, as lua/includes/codes.lua names them (a
 * test keeps the two in step). A code >= 0 is a reservation: the units left.
 */
export const ReplyCode = {
  /** Unlimited stock: nothing deducted, a hold of 0 units. */
  UNLIMITED: UNLIMITED_STOCK,
  /** Not enough stock: nothing deducted. */
  INSUFFICIENT: -2,
  /** No figure: load it, then call the init script. */
  NOT_INITIALISED: -3,
  /** Not enough yet, but due holds are left to reap first: call again. */
  CALL_AGAIN: -4,
  /** The customer would pass their limit: `{ LIMIT, bought, limit }`, nothing deducted. */
  LIMIT: -5,
} as const;

/** A hold's state as the scripts answer it: its record's letter (see lua/includes/records.lua), `?` for none. */
const STATES: Record<string, HoldState> = {
  h: 'held',
  p: 'prepared',
  d: 'in-doubt',
  c: 'committed',
  r: 'released',
  x: 'expired',
  '?': 'unknown',
};

export function holdStateOf(letter: string): HoldState {
  const state = STATES[letter];
  if (state === undefined) throw new Error(`reserve-stock: unexpected hold state ${JSON.stringify(letter)} from a script`);
  return state;
}
