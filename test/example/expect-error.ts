import { expect } from 'chai';
import type { Response } from 'supertest';

/**
 * Every error answer is `{ error: { status, message, code? } }` as JSON, never
 * HTML, never a stack trace; `code` (when the error has a stable one) is
 * `ERR_*`, and is `code` when that is given.
 */
export function expectError(res: Response, status: number, code?: string): void {
  expect(res.status).to.equal(status);
  expect(res.type).to.equal('application/json');
  expect(Object.keys(res.body)).to.deep.equal(['error']);
  const keys = Object.keys(res.body.error);
  expect(keys).to.deep.equal(keys.includes('code') ? ['status', 'message', 'code'] : ['status', 'message']);
  expect(res.body.error.status).to.equal(status);
  expect(res.body.error.message).to.be.a('string');
  expect(res.body.error.message.length).to.be.above(0);
  if (keys.includes('code')) expect(res.body.error.code).to.match(/^ERR_(RESERVE_STOCK|SHOP)_[A-Z_]+$/);
  if (code !== undefined) expect(res.body.error.code).to.equal(code);
  expect(res.text).not.to.match(/\bat .+\(.+:\d+:\d+\)/); // no stack frame
}
