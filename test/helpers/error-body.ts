/**
 * The one shape of an error answer (the library's errorBody): JSON
 * `{ error: { status, code?, message, ... } }`, never HTML, never a stack
 * trace. A sold-out item adds key, requested and available; a sold-out
 * cart its short lines.
 */
import type { Response } from 'supertest';

const SHAPES = new Set([
  'status,message',
  'status,code,message',
  'status,code,message,key,requested,available',
  'status,code,message,key,requested,limit,bought',
  'status,code,message,lines',
]);

const isCount = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/** A sold-out cart's short line, or a line past its customer's limit. */
function isLine(line: { key?: unknown; requested?: unknown; available?: unknown; limit?: unknown; bought?: unknown }): boolean {
  if (typeof line.key !== 'string' || !isCount(line.requested)) return false;
  return Object.keys(line).join() === 'key,requested,available' ? isCount(line.available) : isCount(line.limit) && isCount(line.bought);
}

/** Why `res` is not an error answer of that shape with its own status; undefined when it is. */
export function errorBodyProblem(res: Response): string | undefined {
  if (!/^application\/json/.test(String(res.headers['content-type']))) return `not JSON: ${String(res.headers['content-type'])}`;
  if (/\bat .+\(.+:\d+:\d+\)/.test(res.text)) return 'a stack trace';
  const body = res.body as { error?: Record<string, unknown> } | null;
  if (typeof body !== 'object' || body === null || Object.keys(body).join() !== 'error') return 'not { error }';
  const error = body.error;
  if (typeof error !== 'object' || error === null || !SHAPES.has(Object.keys(error).join())) return `fields ${Object.keys(error ?? {}).join()}`;
  if (error.status !== res.status) return `status ${String(error.status)} in a ${res.status}`;
  if (typeof error.message !== 'string' || error.message.length === 0) return 'no message';
  if ('code' in error && typeof error.code !== 'string') return 'a code that is no string';
  if ('key' in error && !(typeof error.key === 'string' && isCount(error.requested) && (isCount(error.available) || (isCount(error.limit) && isCount(error.bought))))) {
    return 'bad sold-out or limit details';
  }
  if ('lines' in error && !(Array.isArray(error.lines) && error.lines.length > 0 && error.lines.every(isLine))) return 'bad lines';
  return undefined;
}
