/**
 * Counts the commands a contender's server sends Redis, on its side of the
 * connection: the figure is the contender's own whatever else the shared
 * Redis serves meanwhile (INFO's total_commands_processed counts every
 * client's, and did: bare, which sends none, came out at thousands per 1,000
 * requests). A script's call counts once, whatever it runs inside. ioredis
 * sends every command through `sendCommand`, pipelined ones and a script's
 * resend after NOSCRIPT included.
 */
import type { Redis } from 'ioredis';

/** Counts from now on what `redis` sends; returns the count so far. */
export function countCommands(redis: Redis): () => number {
  let sent = 0;
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
    sent++;
    return send(...args);
  };
  return () => sent;
}
