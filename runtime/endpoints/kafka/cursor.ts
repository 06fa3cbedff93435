/**
 * Kafka cursors: where a subscription stands in every partition it knows.
 *
 * Encoding (the message id of every Kafka message, and the `cursor` / `Last-Event-ID` / `?cursor=`
 * a client sends back): base64url (no padding) of
 *
 *     topic@partition#offset,partition#offset;topic@partition#offset
 *
 * `,` separates partitions of one topic, `;` separates topics; topics and partitions are sorted.
 * `offset` is the last offset the subscription has passed in that partition (delivered, or already
 * behind it when the subscription started: `-1` for "nothing yet"). A single-partition topic's id
 * is simply `orders@0#41`. An id covers *all* partitions the subscription knew when it delivered
 * the message, not only the message's own: resuming from it reads every partition strictly after
 * its offset, so nothing is missed and nothing is delivered twice. Partitions absent from a cursor
 * (created later) are read from their beginning, and so is a partition whose end is now below the
 * cursor's offset (the topic was deleted and created again): see kafka-subscription.ts.
 * A cursor naming a partition the topic does not have (so also one naming more partitions than
 * it has) is refused (checkPartitions), and so is one naming a partition twice.
 */
import type { Message } from '../../../core/message.ts';
import { errors } from '../../../core/errors.ts';
import type { CursorOrder } from '../endpoint.ts';

/** Longest cursor accepted from a client, in characters. */
export const MAX_CURSOR_LENGTH = 16_384;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const OFFSET = /^-?\d{1,19}$/;

/** topic -> partition -> last passed offset. */
export type Positions = Map<string, Map<number, bigint>>;

/** Decodes a client cursor; a malformed one is a 400 INVALID_CURSOR. */
export function decodeCursor(cursor: string): Positions {
  const invalid = () => errors.badRequest('INVALID_CURSOR', 'The cursor is not a Kafka cursor of this API.');
  if (cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const positions: Positions = new Map();
  for (const segment of text.split(';')) {
    const at = segment.indexOf('@');
    const topic = segment.slice(0, at);
    if (at <= 0 || !TOPIC.test(topic) || positions.has(topic)) throw invalid();
    const partitions = new Map<number, bigint>();
    for (const entry of segment.slice(at + 1).split(',')) {
      const [partition, offset, extra] = entry.split('#');
      if (extra !== undefined || !partition || !offset || !/^\d{1,6}$/.test(partition) || !OFFSET.test(offset)) throw invalid();
      const value = BigInt(offset);
      if (value < -1n || partitions.has(Number(partition))) throw invalid();
      partitions.set(Number(partition), value);
    }
    positions.set(topic, partitions);
  }
  return positions;
}

/** Every partition of `target` passed by `passed` (absent from `passed`: nothing passed there). */
export function covers(passed: Positions, target: Positions): boolean {
  for (const [topic, partitions] of target) {
    const mine = passed.get(topic);
    for (const [partition, offset] of partitions) if ((mine?.get(partition) ?? -1n) < offset) return false;
  }
  return true;
}

/**
 * Kafka's cursor order: a message (metadata topic, partition, offset) was passed by a subscription
 * at `floor` when its offset is at or below the floor's offset in its partition.
 */
export const kafkaCursorOrder: CursorOrder<Positions> = {
  decode: decodeCursor,
  covers,
  passed(floor, message) {
    const { topic, partition, offset } = message.metadata as { topic?: string; partition?: number; offset?: string };
    if (topic === undefined || partition === undefined || offset === undefined) return false;
    const below = floor.get(topic)?.get(partition);
    return below !== undefined && BigInt(offset) <= below;
  },
};

/** Refuses (400 INVALID_CURSOR) a cursor naming a partition `topic` does not have: partitions are 0 … count − 1. */
export function checkPartitions(cursor: Positions, topic: string, count: number): void {
  for (const partition of cursor.get(topic)?.keys() ?? []) {
    if (partition >= count) {
      throw errors.badRequest('INVALID_CURSOR', `The cursor names partition ${partition} of topic "${topic}", which has ${count} partition${count === 1 ? '' : 's'}.`);
    }
  }
}

/**
 * The positions of one subscription; `advance` records a delivered record and returns the
 * cursor that resumes after it. Each topic's text is rebuilt only when that topic moved.
 */
export class CursorTracker {
  readonly #positions: Positions;
  readonly #segments = new Map<string, string>();

  constructor(start: Positions) {
    this.#positions = new Map([...start].map(([topic, partitions]) => [topic, new Map(partitions)]));
  }

  advance(topic: string, partition: number, offset: bigint): string {
    this.restart(topic, partition, offset);
    return this.cursor();
  }

  /** Sets a partition's last passed offset, also backwards (the partition restarted below it). */
  restart(topic: string, partition: number, passed: bigint): void {
    let partitions = this.#positions.get(topic);
    if (!partitions) this.#positions.set(topic, (partitions = new Map()));
    partitions.set(partition, passed);
    this.#segments.delete(topic);
  }

  /** The last passed offset of a partition, if known. */
  position(topic: string, partition: number): bigint | undefined {
    return this.#positions.get(topic)?.get(partition);
  }

  cursor(): string {
    const topics = [...this.#positions.keys()].sort();
    const parts = topics.map((topic) => {
      let segment = this.#segments.get(topic);
      if (segment === undefined) {
        const partitions = [...this.#positions.get(topic)!].sort(([a], [b]) => a - b);
        segment = `${topic}@${partitions.map(([p, o]) => `${p}#${o}`).join(',')}`;
        this.#segments.set(topic, segment);
      }
      return segment;
    });
    return Buffer.from(parts.join(';'), 'utf8').toString('base64url');
  }
}
