import type { Command } from 'ioredis';
import type { AnyRedis } from './redis';

/**
 * Calls `seen` with every command `client` sends from now on: ioredis sends
 * each one through `sendCommand`, a script's EVALSHA (and its EVAL after
 * NOSCRIPT) included, so a test can count a store's round trips at the client.
 */
export function watchSentCommands(client: AnyRedis, seen: (command: Command) => void): void {
  const send = client.sendCommand.bind(client) as (command: Command, ...rest: unknown[]) => unknown;
  (client as { sendCommand: (command: Command, ...rest: unknown[]) => unknown }).sendCommand = (command, ...rest) => {
    seen(command);
    return send(command, ...rest);
  };
}
