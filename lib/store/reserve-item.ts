import { badInput } from '../errors';
import type { QuickReserveReply, ReserveReply } from '../scripts/commands';
import { ReplyCode } from '../scripts/replies';
import type { ReserveOptions, ReserveResult, StockLoader } from '../types';
import { assertKey, assertLimit, assertQuantity } from '../validation/input';
import { reportExpired, reportUnavailable, type StoreContext } from './context';
import { customerDigest } from './customer';
import { makeHoldId, nonceOf, parseHoldId } from './hold-id';
import { whenFigureMissing } from './initialise';
import type { StockKeys } from './keys';
import { holdMsOf } from './options';
import { untilReaped } from './until-reaped';

/** One reservation's call: what reserveHold-6 and initAndReserveHold-6 take. */
interface Call {
  key: string;
  keys: StockKeys;
  holdId: string;
  nonce: string;
  qty: number;
  holdMs: number;
  /** The customer's digest, '' for none. */
  customer: string;
  /** The call's own limit, '' for the item's. */
  limit: number | '';
  /** The sold-out memory's mark as the call was sent (see ./sold-out-cache). */
  mark: number;
}

/**
 * {@link StockStore.reserve}: one EVALSHA on the hot path; when the figure is
 * missing, loads it under the initialisation lock (see ./initialise) and
 * reserves in the same script that writes it.
 */
export async function reserveItem(
  ctx: StoreContext,
  key: string,
  qty: number,
  loader: StockLoader | undefined,
  options: ReserveOptions | undefined,
): Promise<ReserveResult> {
  assertKey(key);
  assertQuantity(qty);
  const holdMs = holdMsOf(ctx.config, options?.holdSeconds);
  const limit = limitOf(options);
  // A request with its own hold id may be the retry of one Redis granted: only Redis can replay that.
  if (options?.holdId === undefined) {
    const available = ctx.soldOut.refusal(key, qty);
    if (available !== undefined) return soldOut(ctx, key, qty, available, true);
  }
  const holdId = options?.holdId ?? makeHoldId(key);
  const nonce = options?.holdId === undefined ? nonceOf(holdId) : ownNonce(holdId, key);
  const call: Call = {
    key,
    keys: ctx.keys.of(key),
    holdId,
    nonce,
    qty,
    holdMs,
    ...limit,
    mark: ctx.soldOut.mark(),
  };
  let reply: ReserveReply;
  try {
    reply = await reserveHold(ctx, call);
    if (reply[0] === ReplyCode.NOT_INITIALISED) reply = await loadAndReserve(ctx, call, loader);
  } catch (error) {
    reportUnavailable(ctx, 'reserve', key, error);
    throw error;
  }
  const result = toResult(ctx, call, reply);
  const granted = result.status === 'reserved' || result.status === 'unlimited';
  if (ctx.replicas && granted && reply[4] !== 1) await ctx.replicas.after(key, call.keys.stock);
  return result;
}

/** The customer (its digest) and limit the scripts take: '' for none, each checked (a 400 otherwise). */
export function limitOf(options: { customer?: string; limit?: number } | undefined): { customer: string; limit: number | '' } {
  const limit = options?.limit;
  if (limit !== undefined) assertLimit(limit);
  return { customer: options?.customer === undefined ? '' : customerDigest(options.customer), limit: limit ?? '' };
}

function ownNonce(holdId: string, key: string): string {
  const parsed = parseHoldId(holdId);
  if (parsed.key !== key) throw badInput(`Hold id is for another item than ${JSON.stringify(key)}`);
  return parsed.nonce;
}

/** reserveHold-6, sent again while it answers CALL_AGAIN. */
function reserveHold(ctx: StoreContext, call: Call): Promise<ReserveReply> {
  const { commands, config, caller } = ctx;
  const { keys, qty, nonce, holdMs } = call;
  return untilReaped(
    ctx,
    call.key,
    async () =>
      inFull(
        await caller.run(
          () => commands.reserveHold(...keys.holds, qty, nonce, holdMs, config.retentionMs, call.customer, call.limit),
          onLateReply(ctx, call),
        ),
      ),
    whenCalledAgain,
  );
}

/** A quick refusal (the figure's text) as the reply it stands for. */
function inFull(reply: QuickReserveReply): ReserveReply {
  return typeof reply === 'string' ? [ReplyCode.INSUFFICIENT, Number(reply)] : reply;
}

function whenCalledAgain(reply: ReserveReply): { again: boolean; expired: number } {
  return { again: reply[0] === ReplyCode.CALL_AGAIN, expired: reply[3] ?? 0 };
}

async function loadAndReserve(ctx: StoreContext, call: Call, loader: StockLoader | undefined): Promise<ReserveReply> {
  const { commands, config, caller } = ctx;
  const { key, keys, qty, nonce, holdMs } = call;
  const reply = await whenFigureMissing(
    ctx,
    keys,
    key,
    loader,
    async () => {
      const again = await reserveHold(ctx, call);
      return again[0] === ReplyCode.NOT_INITIALISED ? undefined : again;
    },
    async ({ stock, limit }) => {
      const value = await caller.run(
        () =>
          commands.initAndReserveHold(
            ...keys.holds,
            stock,
            config.ttlSeconds,
            qty,
            nonce,
            holdMs,
            config.retentionMs,
            call.customer,
            call.limit,
            limit,
          ),
        onLateReply(ctx, call),
      );
      return { value, written: value[5] === 1 };
    },
  );
  if (!whenCalledAgain(reply).again) return reply;
  reportExpired(ctx, key, reply[3] ?? 0);
  return reserveHold(ctx, call);
}

/** For a reservation that ran after its caller was told 503: releases its hold. */
function onLateReply(ctx: StoreContext, call: Call): (late: QuickReserveReply) => void {
  return (late) => {
    if (typeof late !== 'string' && (late[0] >= 0 || late[0] === ReplyCode.UNLIMITED)) ctx.releaseLate(call.holdId);
  };
}

function toResult(ctx: StoreContext, { key, qty, holdId, mark }: Call, reply: ReserveReply): ReserveResult {
  const [code, available, expiresAt = 0, expired = 0, replayed = 0] = reply;
  // A replayed answer (a resent command) reserved nothing: nothing to report.
  const emit = replayed === 1 ? undefined : ctx.config.emit;
  if (replayed !== 1) reportExpired(ctx, key, expired);
  // A grant (units left, or -1: unlimited) is what sold-out memory takes; a
  // replayed answer's figure is its first answer's, maybe long gone.
  if ((code >= 0 || code === ReplyCode.UNLIMITED) && replayed !== 1) ctx.soldOut.granted(key, code);
  if (code >= 0) {
    emit?.({ type: 'reserved', key, qty, remaining: code, holdId });
    return { status: 'reserved', remaining: code, holdId, expiresAt };
  }
  if (code === ReplyCode.UNLIMITED) {
    emit?.({ type: 'reserved', key, qty, remaining: ReplyCode.UNLIMITED, holdId });
    return { status: 'unlimited', holdId, expiresAt };
  }
  if (code === ReplyCode.INSUFFICIENT) {
    ctx.soldOut.learn(key, available, mark);
    return soldOut(ctx, key, qty, available, false);
  }
  if (code === ReplyCode.LIMIT) {
    // { LIMIT, bought, limit }
    const [, bought, limit] = reply as [number, number, number];
    emit?.({ type: 'limit', key, requested: qty, limit, bought });
    return { status: 'limit', limit, bought };
  }
  throw new Error(`reserve-stock: unexpected reply ${code} from the reserve script`);
}

/** A sold-out answer, from Redis or from memory (`cached`). */
function soldOut(ctx: StoreContext, key: string, requested: number, available: number, cached: boolean): ReserveResult {
  ctx.config.emit?.({ type: 'sold-out', key, requested, available, cached });
  return { status: 'insufficient', available };
}
