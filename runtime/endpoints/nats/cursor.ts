/**
 * NATS JetStream cursors: the message id of every stream message, and the `cursor` / `Last-Event-ID`
 * / `?cursor=` a client sends back, is the stream sequence in decimal (`42`). Resuming from it reads
 * the stream (filtered by the consumer subject) strictly after that sequence. A stream's sequences
 * only grow, so the order is simply numeric. A cursor beyond the stream's last sequence means the
 * stream was created again: the subscription starts at its beginning (as Kafka does for a recreated
 * topic). `consumer.maxReplay` bounds how far back it reads.
 */
import type { Message } from '../../../core/message.ts';
import { errors } from '../../../core/errors.ts';
import type { CursorOrder } from '../endpoint.ts';

/** Decodes a client cursor; anything but a decimal sequence is a 400 INVALID_CURSOR. */
export function decodeSequence(cursor: string): number {
  if (!/^\d{1,15}$/.test(cursor)) throw errors.badRequest('INVALID_CURSOR', 'The cursor is not a NATS JetStream sequence of this API.');
  return Number(cursor);
}

/**
 * The sequence to start reading at for a client resuming after `cursor`, given the stream's bounds
 * now and the replay bound (messages; undefined: none).
 */
export function resumeSequence(cursor: number, bounds: { first: number; last: number }, maxReplay: number | undefined): number {
  const next = cursor > bounds.last ? bounds.first : cursor + 1;
  const floor = maxReplay !== undefined ? Math.max(bounds.first, bounds.last - maxReplay + 1) : bounds.first;
  return Math.max(next, floor, 1);
}

export const natsCursorOrder: CursorOrder<number> = {
  decode: decodeSequence,
  covers: (passed, target) => passed >= target,
  passed(floor, message: Message) {
    const sequence = message.metadata.sequence;
    return typeof sequence === 'number' && sequence <= floor;
  },
};
