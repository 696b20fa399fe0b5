import { createHash } from 'node:crypto';
import { badInput } from '../errors';

/** Longest customer id taken, in UTF-16 code units: an account id, not a document. */
export const MAX_CUSTOMER_LENGTH = 512;

/**
 * How a customer is named in Redis, where per-customer limits count: a
 * digest of the id (96 bits of SHA-256, base64url), so that every customer
 * costs the same few bytes whatever the shop's ids look like, and no id
 * (an e-mail address, say) is written to Redis.
 */
export function customerDigest(customer: string): string {
  assertCustomer(customer);
  return createHash('sha256').update(customer).digest().subarray(0, 12).toString('base64url');
}

/** Throws a 400 unless `customer` is a non-empty, well-formed string of at most MAX_CUSTOMER_LENGTH. */
export function assertCustomer(customer: unknown): asserts customer is string {
  if (typeof customer !== 'string' || customer.length === 0 || customer.length > MAX_CUSTOMER_LENGTH || !customer.isWellFormed()) {
    throw badInput(`The customer must be a non-empty string of at most ${MAX_CUSTOMER_LENGTH} characters`);
  }
}
