import type { Request } from 'express';
import type { CartReservation, Reservation } from '../types';

function reservationOf<K extends 'item' | 'cart'>(req: Request, kind: K): Extract<Reservation | CartReservation, { kind: K }> {
  const reservation = req.reservation;
  if (reservation?.kind !== kind) {
    const wanted = kind === 'item' ? 'reserveStock({ key })' : 'reserveStock({ items })';
    throw new Error(`reserve-stock: this route holds no ${kind} reservation: ${wanted} must run before its handler`);
  }
  return reservation as Extract<Reservation | CartReservation, { kind: K }>;
}

/**
 * `req.reservation` as the one item `reserveStock({ key, qty })` reserved,
 * typed as such. Throws when the route holds none (a handler wired without
 * the middleware, or behind a cart's): a mistake in the app, not in the
 * request.
 */
export function itemReservation(req: Request): Reservation {
  return reservationOf(req, 'item');
}

/** `req.reservation` as the cart `reserveStock({ items })` reserved; throws as {@link itemReservation} does. */
export function cartReservation(req: Request): CartReservation {
  return reservationOf(req, 'cart');
}
