import type { Request } from 'express';
import { badInput, isHttpError } from '../errors';

/**
 * Calls one of the shop's functions of the request (`key`, `items`,
 * `idempotencyScope`, ...). An http-error it throws passes through (a 401
 * for no session, say); any other failure is a 400 naming `what`, with the
 * error as its cause, and nothing has changed yet.
 */
export async function readFromRequest<T>(read: (req: Request) => T | Promise<T>, req: Request, what: string): Promise<T> {
  try {
    return await read(req);
  } catch (error) {
    throw isHttpError(error) ? error : badInput(`Could not read ${what} from the request`, error);
  }
}
