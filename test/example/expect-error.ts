import { expect } from 'chai';
import type { Response } from 'supertest';
import { errorBodyProblem } from '../helpers/error-body';

/**
 * Every error answer is `{ error: { status, code?, message, ... } }` as JSON,
 * never HTML, never a stack trace; with `code`, the answer's code is that one.
 */
export function expectError(res: Response, status: number, code?: string): void {
  expect(res.status, res.text).to.equal(status);
  expect(errorBodyProblem(res), res.text).to.equal(undefined);
  if (code !== undefined) expect(res.body.error.code, res.text).to.equal(code);
}
