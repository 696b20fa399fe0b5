import { expect } from 'chai';
import type { Response } from 'supertest';

/** Every error answer is `{ error: { status, message } }` as JSON, never HTML, never a stack trace. */
export function expectError(res: Response, status: number): void {
  expect(res.status).to.equal(status);
  expect(res.type).to.equal('application/json');
  expect(Object.keys(res.body)).to.deep.equal(['error']);
  expect(Object.keys(res.body.error)).to.deep.equal(['status', 'message']);
  expect(res.body.error.status).to.equal(status);
  expect(res.body.error.message).to.be.a('string');
  expect(res.body.error.message.length).to.be.above(0);
  expect(res.text).not.to.match(/\bat .+\(.+:\d+:\d+\)/); // no stack frame
}
