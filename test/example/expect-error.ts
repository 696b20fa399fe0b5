import { expect } from 'chai';
import type { Response } from 'supertest';
import { errorBodyProblem } from '../helpers/error-body';

/** Every error answer is `{ error: { status, code?, message, ... } }` as JSON, never HTML, never a stack trace. */
export function expectError(res: Response, status: number): void {
  expect(res.status, res.text).to.equal(status);
  expect(errorBodyProblem(res), res.text).to.equal(undefined);
}
