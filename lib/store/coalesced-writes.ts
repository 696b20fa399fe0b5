import type { Socket } from 'node:net';
import type { RedisClient } from '../types';
import { isCluster } from './cluster';

/**
 * Lets the commands a store sends in one turn of the event loop leave in one
 * socket write. The first command of a turn corks the client's sockets (on
 * a Cluster, its masters'), and the turn's end (setImmediate) uncorks them:
 * Node then hands every command written meanwhile to the kernel in one
 * `writev`. Under load, the requests that one turn reads all send their
 * reservations then, and the commits of the answers one Redis reply brings
 * go together too: one system call for each batch instead of one per command,
 * which on the bench's machine was the largest single cost of a sale.
 *
 * Each command is still sent by ioredis as it is (its own reply, timeout and
 * resend after a reconnect): only the system call is shared. A command waits
 * at most until the end of the turn it was sent in.
 */
export class CoalescedWrites {
  private corked: Socket[] | undefined;

  constructor(private readonly redis: RedisClient) {}

  /** Call before sending a command: its write waits for the turn's end. */
  hold(): void {
    if (this.corked) return;
    const sockets = socketsOf(this.redis);
    for (const socket of sockets) socket.cork();
    this.corked = sockets;
    setImmediate(this.release);
  }

  private readonly release = (): void => {
    const sockets = this.corked ?? [];
    this.corked = undefined;
    for (const socket of sockets) socket.uncork();
  };
}

/** The sockets the client writes commands to now (none while it has none). */
export function socketsOf(redis: RedisClient): Socket[] {
  const clients = isCluster(redis) ? redis.nodes('master') : [redis];
  const sockets: Socket[] = [];
  for (const client of clients) {
    if (client.stream) sockets.push(client.stream as Socket);
  }
  return sockets;
}
