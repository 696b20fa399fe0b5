import createError from 'http-errors';

/**
 * A stand-in for a payment provider: `"decline"` is refused with a 402,
 * anything else is approved. It runs inside the order's transaction, as a
 * real charge would, so a refusal rolls the order back.
 */
export async function chargePayment(method: string): Promise<void> {
  // A provider answers later, not in the same tick.
  await new Promise((resolve) => setImmediate(resolve));
  if (method === 'decline') throw createError(402, 'Payment declined');
}
