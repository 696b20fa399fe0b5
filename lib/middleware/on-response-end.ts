import type { Response } from 'express';

/**
 * Calls `onEnd` when the handler ends the response, whether or not the
 * client is still connected: the handler's answer is the order's outcome,
 * the connection is not. With `keepBodyUpTo` (bytes), also hands over the
 * body written (for replaying it to a retry), or `null` when it grew past
 * that size: from then on nothing more is kept, so a huge answer is never
 * buffered whole. When `onEnd` returns a promise, the response is finished
 * only once it settles (what it saves is then there before the client can
 * act on the answer).
 */
export function onResponseEnd(
  res: Response,
  onEnd: (body: Buffer | null) => void | Promise<unknown>,
  keepBodyUpTo?: number,
): void {
  const end = res.end;
  const write = res.write;
  const keeping = keepBodyUpTo !== undefined;
  let chunks: Buffer[] | null = keeping ? [] : null;
  let size = 0;
  const keep = (chunk: unknown, encoding: unknown) => {
    if (!chunks || chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding as BufferEncoding);
    size += bytes.length;
    if (size > (keepBodyUpTo as number)) chunks = null;
    else chunks.push(bytes);
  };
  if (keeping) {
    res.write = function writeAndKeep(this: Response, ...args: Parameters<Response['write']>) {
      keep(args[0], typeof args[1] === 'string' ? args[1] : 'utf8');
      return write.apply(this, args);
    } as Response['write'];
  }
  res.end = function endAndSettle(this: Response, ...args: Parameters<Response['end']>) {
    res.end = end;
    if (keeping) {
      res.write = write;
      keep(args[0], typeof args[1] === 'string' ? args[1] : 'utf8');
    }
    const saving = onEnd(chunks && Buffer.concat(chunks));
    if (saving === undefined) return end.apply(this, args);
    // Ends the response however the saving went (its failures are its own to report).
    const finish = () => end.apply(this, args);
    saving.then(finish, finish);
    return this;
  } as Response['end'];
}
