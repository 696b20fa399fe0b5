import createError from 'http-errors';

// The stock column is a signed 32-bit INT.
export const MAX_STOCK = 2_147_483_647;
const SKU = /^[^\s\p{C}]{1,64}$/u;

export interface ProductBody {
  sku: string;
  name: string;
  stock: number;
}

export interface OrderBody {
  sku: string;
  qty: number;
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
  const { sku, name, stock } = objectBody(body);
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) {
    bad('"name" must be a non-empty string of at most 200 characters');
  }
  return { sku: parseSku(sku), name, stock: wholeNumber(stock, 'stock (-1 = unlimited)', -1, MAX_STOCK) };
}

export function parseRestock(body: unknown): { qty: number } {
  return { qty: wholeNumber(objectBody(body).qty, 'qty', 1, MAX_STOCK) };
}

export interface CartBody {
  items: { sku: string; qty: number }[];
  payment: string;
}

/** Most lines a cart may send (the library merges and caps distinct items too). */
export const MAX_CART_LINES = 100;

function parsePayment(payment: unknown): string {
  if (typeof payment !== 'string' || payment === '' || payment.length > 32) {
    bad('"payment" must be a string of 1 to 32 characters, such as "card" or "decline"');
  }
  return payment;
}

export function parseOrder(body: unknown): OrderBody {
  const { sku, qty, payment = 'card' } = objectBody(body);
  return { sku: parseSku(sku), qty: wholeNumber(qty, 'qty', 1, MAX_STOCK), payment: parsePayment(payment) };
}

export function parseCart(body: unknown): CartBody {
  const { items, payment = 'card' } = objectBody(body);
  if (!Array.isArray(items) || items.length === 0 || items.length > MAX_CART_LINES) {
    bad(`"items" must be an array of 1 to ${MAX_CART_LINES} lines { sku, qty }`);
  }
  const lines = (items as unknown[]).map((line) => {
    const { sku, qty } = objectBody(line);
    return { sku: parseSku(sku), qty: wholeNumber(qty, 'qty', 1, MAX_STOCK) };
  });
  return { items: lines, payment: parsePayment(payment) };
}
