import type { Socket } from 'node:net';
import type { RedisClient } from '../types';
import { isCluster } from './cluster';

/**
 * Lets the commands a store sends in one turn of the event loop share a
 * socket write. The turn's first command is written at once, so that Redis
 * starts on it while the turn goes on; the second corks the client's sockets
 * (on a Cluster, its masters'), and the turn's end (setImmediate) uncorks
 * them: Node then hands every command written meanwhile to the kernel in one
 * `writev`. Under load, the requests one turn reads send their reservations
 * in two writes, and so do the commits of the answers one Redis reply
 * brings, instead of one write system call per command, which on the
 * bench's machine was the largest single cost of a sale. Corking from the
 * first command instead made a closed loop of 50 callers slower (Redis
 * waited for the whole turn's batch); letting the first go at once made it
 * faster than no corking at all.
 *
 * Each command is still sent by ioredis as it is (its own reply, timeout and
 * resend after a reconnect): only the system call is shared. A command waits
 * at most until the end of the turn it was sent in, and so do the client's
 * other commands sent after it in that turn.
 */
export class CoalescedWrites {
  private turnOpen = false;
  private corked: Socket[] | undefined;

  constructor(private readonly redis: RedisClient) {}

  /** Call before sending a command: all but a turn's first wait for the turn's end. */
  hold(): void {
    if (this.corked) return;
    if (!this.turnOpen) {
      this.turnOpen = true;
      setImmediate(this.release);
      return;
    }
    const sockets = socketsOf(this.redis);
    for (const socket of sockets) socket.cork();
    this.corked = sockets;
  }

  private readonly release = (): void => {
    const sockets = this.corked ?? [];
    this.turnOpen = false;
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
