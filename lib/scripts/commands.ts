import { createHash } from 'node:crypto';
import type { HoldKeys } from '../store/keys';
import type { RedisClient } from '../types';
import { luaSources } from './lua-sources';

/**
 * The scripts, by the name of their file less `-<number of keys>.lua`
 * (`-N`: a number of keys given with each call).
 */
export const SCRIPT_FILES = {
  reserveHold: 'reserveHold-6.lua',
  reserveCart: 'reserveCart-N.lua',
  initAndReserveHold: 'initAndReserveHold-6.lua',
  settleHold: 'settleHold-6.lua',
  extendHold: 'extendHold-6.lua',
  inspectHolds: 'inspectHolds-6.lua',
  resetFigure: 'resetFigure-6.lua',
  setStock: 'setStock-6.lua',
  setLimit: 'setLimit-6.lua',
  addStock: 'addStock-6.lua',
  releaseLock: 'releaseLock-1.lua',
  claimRequest: 'claimRequest-1.lua',
} as const;

type ScriptName = keyof typeof SCRIPT_FILES;

/** Which holds inspectHolds-6 lists. */
export type HoldList = 'all' | 'in-doubt' | 'none';

/**
 * reserveHold-6 and initAndReserveHold-6: `{ code, available, expiresAt,
 * expired, replayed, written }`, trailing zeros left out (`written` from
 * initAndReserveHold-6 only; codes in ./replies).
 */
export type ReserveReply = [code: number, available: number, expiresAt?: number, expired?: number, replayed?: number, written?: number];

/** reserveHold-6 also answers a quick refusal with the figure's own text. */
export type QuickReserveReply = ReserveReply | string;

/** reserveCart-N: `{ status, list, expired }` (see the script). */
export type CartReply = [status: 'reserved' | 'short' | 'again' | 'limit' | 'missing', list: number[], expired: number[]];

/** inspectHolds-6 (see the script). */
export type InspectReply = [
  figure: string | null,
  units: number,
  count: number,
  list: (string | number)[],
  expired: number,
  inDoubt: number,
  prepared: number,
  more: 0 | 1,
  next: string,
  prepares: number,
];

/** Why resetFigure-6 wrote nothing. */
export type ResetBlocker = 'absent' | 'prepared' | 'in-doubt' | 'reaping';

/** addStock-6's status (see the script). */
export type AddStockStatus = 'added' | 'unlimited' | 'absent' | 'again' | 'over';

/** The scripts as methods, as `bindCommands` defines them on a client. */
export interface StockCommands {
  reserveCart(numberOfKeys: number, ...args: (string | number)[]): Promise<CartReply>;
  reserveHold(
    ...args: [...HoldKeys, qty: number, nonce: string, holdMs: number, retentionMs: number, customer: string, limit: number | '']
  ): Promise<QuickReserveReply>;
  initAndReserveHold(
    ...args: [
      ...HoldKeys,
      stock: number,
      ttlSeconds: number,
      qty: number,
      nonce: string,
      holdMs: number,
      retentionMs: number,
      customer: string,
      limit: number | '',
      itemLimit: number,
    ]
  ): Promise<ReserveReply>;
  settleHold(
    ...args: [...HoldKeys, nonce: string, action: 'prepare' | 'commit' | 'release', retentionMs: number]
  ): Promise<[state: string, changed: number, expired: number]>;
  extendHold(
    ...args: [...HoldKeys, nonce: string, ms: number, retentionMs: number]
  ): Promise<[state: string, expiresAt: number, expired: number]>;
  inspectHolds(...args: [...HoldKeys, retentionMs: number, list: HoldList, from: string, size: number]): Promise<InspectReply>;
  resetFigure(
    ...args: [...HoldKeys, databaseStock: number, retentionMs: number, preparesSeen: number | '']
  ): Promise<[before: number | null, after: number | null, expired: number, blocker: ResetBlocker | null]>;
  setStock(
    ...args: [...HoldKeys, stock: number, ttlSeconds: number, mode: 'NX' | '', retentionMs: number, itemLimit: number | '']
  ): Promise<0 | 1>;
  setLimit(...args: [...HoldKeys, limit: number, retentionMs: number]): Promise<number>;
  addStock(
    ...args: [...HoldKeys, qty: number, retentionMs: number, max: number]
  ): Promise<[status: AddStockStatus, stock: number | null, expired: number]>;
  releaseLock(lockKey: string, token: string): Promise<number>;
  claimRequest(recordKey: string, running: string, ttlMs: number): Promise<string | null>;
}

interface LoadedScript {
  /** Versioned by content, so two versions of this package can share one client. */
  command: string;
  /** Undefined for `-N`: each call then starts with its number of keys. */
  numberOfKeys: number | undefined;
  lua: string;
}

let loaded: Record<ScriptName, LoadedScript> | undefined;

/** Takes every script's text once per process. */
function loadScripts(): Record<ScriptName, LoadedScript> {
  if (loaded) return loaded;
  const sources = luaSources();
  const scripts = {} as Record<ScriptName, LoadedScript>;
  for (const [name, file] of Object.entries(SCRIPT_FILES) as [ScriptName, string][]) {
    const lua = sources[file];
    if (lua === undefined) throw new Error(`reserve-stock: no script lua/${file}`);
    const sha = createHash('sha1').update(lua).digest('hex').slice(0, 12);
    const count = /-(\d+)\.lua$/.exec(file)?.[1];
    const numberOfKeys = count === undefined ? undefined : Number(count);
    scripts[name] = { command: `reserveStock:${name}:${sha}`, numberOfKeys, lua };
  }
  loaded = scripts;
  return scripts;
}

/** A script's Lua as the store sends it, includes resolved (for benchmarks and tools). */
export function scriptSource(name: ScriptName): string {
  return loadScripts()[name].lua;
}

const bound = new WeakMap<RedisClient, StockCommands>();

/**
 * Defines the scripts on the caller's client (ioredis sends EVALSHA, falls
 * back to EVAL on NOSCRIPT, on every node of a Cluster) and returns them as
 * plain methods. Once per client.
 */
export function bindCommands(redis: RedisClient): StockCommands {
  const existing = bound.get(redis);
  if (existing) return existing;
  const scripts = loadScripts();
  const client = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const methods = {} as Record<ScriptName, (...args: unknown[]) => Promise<unknown>>;
  for (const name of Object.keys(scripts) as ScriptName[]) {
    const { command, numberOfKeys, lua } = scripts[name];
    if (typeof client[command] !== 'function') redis.defineCommand(command, { numberOfKeys, lua });
    methods[name] = (client[command] as (...args: unknown[]) => Promise<unknown>).bind(redis);
  }
  const commands = methods as unknown as StockCommands;
  bound.set(redis, commands);
  return commands;
}
