/** The request bodies, checked: anything a route cannot use is a 400 before anything is reserved or written. */
import createError from 'http-errors';
import { MAX_CART_LINES } from '../lib';

// The stock column is a signed 32-bit INT.
export const MAX_STOCK = 2_147_483_647;
const SKU = /^[^\s\p{C}]{1,64}$/u;

export interface ProductBody {
  sku: string;
  name: string;
  stock: number;
  /** The most units one customer may buy; null: no limit. */
  perCustomerLimit: number | null;
}

/** One line of an order: `qty` units of `sku`. */
export interface OrderLine {
  sku: string;
  qty: number;
}

/** An order's body: one line (`POST /orders`) or a cart's lines, and the payment. */
export interface OrderRequest {
  lines: OrderLine[];
  /** Simulated payment method; "decline" makes the payment fail. */
  payment: string;
}

function bad(message: string): never {
  throw createError(400, message);
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    bad('Send a JSON object (Content-Type: application/json)');
  }
  return body as Record<string, unknown>;
}

function wholeNumber(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    bad(`"${name}" must be a whole number from ${min} to ${max}`);
  }
  return value;
}

export function parseSku(value: unknown): string {
  if (typeof value !== 'string' || !SKU.test(value)) {
    bad('"sku" must be a string of 1 to 64 characters without spaces');
  }
  return value;
}

export function parseProduct(body: unknown): ProductBody {
  const { sku, name, stock, perCustomerLimit = null } = objectBody(body);
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    bad('"name" must be a non-empty string of at most 200 characters');
  }
  return {
    sku: parseSku(sku),
    name,
    stock: wholeNumber(stock, 'stock (-1 = unlimited)', -1, MAX_STOCK),
    perCustomerLimit: perCustomerLimitOf(perCustomerLimit),
  };
}

/** A per-customer limit: a whole number of units from 1 (the column is a signed INT), or null for none. */
function perCustomerLimitOf(value: unknown): number | null {
  return value === null ? null : wholeNumber(value, 'perCustomerLimit (null = none)', 1, MAX_STOCK);
}

/** `PUT /products/:sku/limit` `{ perCustomerLimit }`: a number sets it, null clears it; it must be given. */
export function parseLimit(body: unknown): { perCustomerLimit: number | null } {
  const { perCustomerLimit } = objectBody(body);
  if (perCustomerLimit === undefined) bad('Send "perCustomerLimit": a whole number, or null for no limit');
  return { perCustomerLimit: perCustomerLimitOf(perCustomerLimit) };
}

export function parseRestock(body: unknown): { qty: number } {
  return { qty: wholeNumber(objectBody(body).qty, 'qty', 1, MAX_STOCK) };
}

function parsePayment(payment: unknown): string {
  if (typeof payment !== 'string' || payment === '' || payment.length > 32) {
    bad('"payment" must be a string of 1 to 32 characters, such as "card" or "decline"');
  }
  return payment;
}

function parseLine(line: unknown): OrderLine {
  const { sku, qty } = objectBody(line);
  return { sku: parseSku(sku), qty: wholeNumber(qty, 'qty', 1, MAX_STOCK) };
}

/** `POST /orders` `{ sku, qty, payment = "card" }`. */
export function parseOrder(body: unknown): OrderRequest {
  const { payment = 'card' } = objectBody(body);
  return { lines: [parseLine(body)], payment: parsePayment(payment) };
}

/** `POST /carts/checkout` `{ items: [{ sku, qty }], payment = "card" }`; the library merges lines of one sku. */
export function parseCart(body: unknown): OrderRequest {
  const { items, payment = 'card' } = objectBody(body);
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_CART_LINES) {
    bad(`"items" must be an array of 1 to ${MAX_CART_LINES} lines { sku, qty }`);
  }
  return { lines: (items as unknown[]).map(parseLine), payment: parsePayment(payment) };
}
