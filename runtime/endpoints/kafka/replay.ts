/**
 * Where a Kafka subscription resumed from a cursor starts, and how far back it may go
 * (`consumer.maxReplay`).
 *
 * Contract: `resumePositions` asks the broker for every topic the subscription reads (its partition
 * count and offsets), refuses a cursor naming a partition a topic does not have (400
 * INVALID_CURSOR, kafka-cursor.ts) and, with a bound, raises each partition's position to it:
 * a record count `n` starts no earlier than `end − n` of each partition, a duration `d` no earlier
 * than the first record stamped at or after `now − d`; never below the partition's earliest
 * available offset. A partition the cursor does not name is read from its beginning, or from the
 * bound when there is one. A topic that does not exist (yet) is left to the consumer.
 */
import type { Admin } from 'kafkajs';
import { checkPartitions, type Positions } from './cursor.ts';
import { rootType } from './subscription.ts';

/** `maxReplay` as a duration: 1 to 999999 of s, m, h or d. */
const MAX_REPLAY_DURATION = /^([1-9][0-9]{0,5})([smhd])$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The first offset a resumed subscription may read, per partition of `topic`. */
export type ReplayBound = (admin: Admin, topic: string, now: number) => Promise<Map<number, bigint>>;

/** Parses `consumer.maxReplay` once, when the endpoint is built; undefined: no bound. */
export function compileMaxReplay(maxReplay: string | number | undefined): ReplayBound | undefined {
  if (maxReplay === undefined) return undefined;
  if (typeof maxReplay === 'number') {
    const count = BigInt(maxReplay);
    return async (admin, topic) => {
      const offsets = await admin.fetchTopicOffsets(topic);
      return new Map(offsets.map((o) => [o.partition, max(BigInt(o.low), BigInt(o.high) - count)]));
    };
  }
  const match = MAX_REPLAY_DURATION.exec(maxReplay);
  if (!match) throw new Error(`consumer.maxReplay "${maxReplay}" is neither a record count nor a duration such as "30m", "24h" or "7d"`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return async (admin, topic, now) => {
    // The offset of the first record stamped at or after the time (the end when there is none), at or above the earliest.
    const offsets = await admin.fetchTopicOffsetsByTimestamp(topic, now - ms);
    return new Map(offsets.map((o) => [o.partition, BigInt(o.offset)]));
  };
}

/** A topic's partition count; rejects with the broker's error (UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist). */
export type PartitionCount = (topic: string) => Promise<number>;

/**
 * Partition counts asked of the broker at most once per `ttlMs` per topic, so that clients
 * resuming at once (each handshake checks its cursor) cost one metadata request, not one each.
 * Holds one entry per topic of the endpoint; failures are not kept.
 */
export function partitionCounter(admin: Admin, ttlMs = 5_000): PartitionCount {
  const known = new Map<string, { readonly count: Promise<number>; readonly at: number }>();
  return (topic) => {
    const entry = known.get(topic);
    if (entry && Date.now() - entry.at < ttlMs) return entry.count;
    const count = admin.fetchTopicOffsets(topic).then((offsets) => offsets.length);
    known.set(topic, { count, at: Date.now() });
    count.catch(() => known.delete(topic));
    return count;
  };
}

/**
 * Before a stream starts: refuses (INVALID_CURSOR) a cursor naming a partition one of `topics`
 * does not have. Resolves when the broker cannot tell now (the subscription answers then).
 */
export async function checkCursorPartitions(partitionsOf: PartitionCount, cursor: Positions, topics: readonly string[]): Promise<void> {
  for (const topic of topics) {
    const partitions = await partitionsOf(topic).catch(() => undefined);
    if (partitions !== undefined) checkPartitions(cursor, topic, partitions);
  }
}

/**
 * The positions (last passed offsets) a subscription resumed from `cursor` starts at, for `topics`.
 * Throws INVALID_CURSOR (400) for a partition a topic does not have; other errors are the broker's.
 */
export async function resumePositions(admin: Admin, partitionsOf: PartitionCount, cursor: Positions, topics: readonly string[], bound: ReplayBound | undefined, now: number): Promise<Positions> {
  const start: Positions = new Map();
  for (const topic of topics) {
    const named = cursor.get(topic);
    if (!named && !bound) continue;
    let partitions: number;
    try {
      partitions = await partitionsOf(topic);
    } catch (error) {
      if (rootType(error) === 'UNKNOWN_TOPIC_OR_PARTITION') continue; // created later: read from its beginning
      throw error;
    }
    checkPartitions(cursor, topic, partitions);
    const positions = new Map(named);
    if (bound) {
      for (const [partition, first] of await bound(admin, topic, now)) {
        positions.set(partition, max(positions.get(partition) ?? -1n, first - 1n));
      }
    }
    start.set(topic, positions);
  }
  return start;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
