import type { Response } from 'express';

/**
 * Calls `onEnd` when the handler ends the response, whether or not the
 * client is still connected: the handler's answer is the order's outcome,
 * the connection is not. With `captureBody`, also hands over the body
 * written (for replaying it to a retry). When `onEnd` returns a promise, the
 * response is finished only once it settles (what it saves is then there
 * before the client can act on the answer).
 */
export function onResponseEnd(
  res: Response,
  onEnd: (body: Buffer | undefined) => void | Promise<unknown>,
  captureBody = false,
): void {
  const end = res.end;
  const write = res.write;
  const chunks: Buffer[] | undefined = captureBody ? [] : undefined;
  const keep = (chunk: unknown, encoding: unknown) => {
    if (chunks && chunk !== undefined && chunk !== null && typeof chunk !== 'function') {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string, encoding as BufferEncoding));
    }
  };
  if (chunks) {
    res.write = function writeAndKeep(this: Response, ...args: Parameters<Response['write']>) {
      keep(args[0], typeof args[1] === 'string' ? args[1] : 'utf8');
      return write.apply(this, args);
    } as Response['write'];
  }
  res.end = function endAndSettle(this: Response, ...args: Parameters<Response['end']>) {
    res.end = end;
    if (chunks) {
      res.write = write;
      keep(args[0], typeof args[1] === 'string' ? args[1] : 'utf8');
    }
    const saving = onEnd(chunks && Buffer.concat(chunks));
    if (saving === undefined) return end.apply(this, args);
    void saving.finally(() => end.apply(this, args));
    return this;
  } as Response['end'];
}
