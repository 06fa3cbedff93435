/**
 * A record batch that cannot be decompressed (corrupt, unknown framing, or over
 * MAX_DECOMPRESSED_BATCH_BYTES) must not fail the whole fetch: kafkajs decodes a fetch response
 * in one piece, so a throwing codec crashes the consumer and every later record of every
 * partition stays unread. Instead the codec returns, in place of the batch's records, as many
 * stand-in records as the batch header announces, each with the batch's last offset and the
 * UNDECODABLE_HEADER header carrying the reason. The consumers (kafka-subscription.ts,
 * kafka-group.ts) recognise them with `undecodable()`, move past the batch, log it once at warn
 * (KAFKA_BATCH_UNDECODABLE) and count it (sluice_kafka_batches_skipped_total).
 *
 * The batch header is read from the bytes just before the compressed records: kafkajs hands the
 * codec a slice of the fetch response (Decoder.readAll), so the header shares its memory. The
 * layout is checked (magic 2, this codec, lengths adding up); when it does not check out, the
 * original error is thrown and kafkajs fails as it would have.
 */
import { randomUUID } from 'node:crypto';
import type { IHeaders } from 'kafkajs';
import type { log } from '../../../log.ts';
import type { Telemetry } from '../../../metrics/telemetry.ts';

type Logger = typeof log;

/** Record batch v2 header bytes before the records: offset 8, length 4, epoch 4, magic 1, crc 4, attributes 2, ... count 4. */
const HEADER_BYTES = 61;
const MAGIC_AT = 16;
const ATTRIBUTES_AT = 21;
const LAST_OFFSET_DELTA_AT = 23;
const COUNT_AT = 57;
const CODEC_MASK = 0x07;
/** More stand-ins than this (a header claiming millions of records) is not worth allocating: fail as kafkajs would. */
const MAX_STAND_INS = 100_000;
const MAX_REASON_BYTES = 200;

/** Unguessable per process, so no producer can make a real record look like a stand-in. */
export const UNDECODABLE_HEADER = `sluice-undecodable-${randomUUID()}`;

interface BatchHeader {
  readonly count: number;
  readonly lastOffsetDelta: number;
}

/** The header of the batch whose compressed records are `compressed`, or undefined when it does not check out. */
function batchHeader(compressed: Buffer, codec: number): BatchHeader | undefined {
  if (compressed.byteOffset < HEADER_BYTES) return undefined;
  const header = Buffer.from(compressed.buffer, compressed.byteOffset - HEADER_BYTES, HEADER_BYTES);
  if (header[MAGIC_AT] !== 2 || (header.readInt16BE(ATTRIBUTES_AT) & CODEC_MASK) !== codec) return undefined;
  if (12 + header.readInt32BE(8) !== HEADER_BYTES + compressed.length) return undefined; // the records run to the batch's end
  const count = header.readInt32BE(COUNT_AT);
  const lastOffsetDelta = header.readInt32BE(LAST_OFFSET_DELTA_AT);
  if (count <= 0 || count > MAX_STAND_INS || lastOffsetDelta < 0) return undefined;
  return { count, lastOffsetDelta };
}

/**
 * Decompresses one batch's records with `decompress`; when that fails, or its output does not
 * hold the `count` length-prefixed records the header announces (kafkajs would throw reading
 * them), returns the stand-ins. Throws the original error only when the header does not check out.
 */
export async function decodeOrStandIn(compressed: Buffer, codec: number, decompress: (data: Buffer) => Promise<Buffer>): Promise<Buffer> {
  let failure: unknown;
  let output: Buffer | undefined;
  try {
    output = await decompress(compressed);
  } catch (error) {
    failure = error;
  }
  const header = batchHeader(compressed, codec);
  if (!header) {
    if (output) return output;
    throw failure;
  }
  if (output && holdsRecords(output, header.count)) return output;
  return standIns(header, failure ?? new Error('the decompressed batch does not hold the records its header announces'));
}

function standIns({ count, lastOffsetDelta }: BatchHeader, error: unknown): Buffer {
  const reason = Buffer.from(String((error as Error)?.message ?? error)).subarray(0, MAX_REASON_BYTES);
  const name = Buffer.from(UNDECODABLE_HEADER);
  // attributes, timestampDelta, offsetDelta, key (null), value (null), one header: name, reason
  const body = Buffer.concat([Buffer.from([0]), varint(0), varint(lastOffsetDelta), varint(-1), varint(-1), varint(1), varint(name.length), name, varint(reason.length), reason]);
  const record = Buffer.concat([varint(body.length), body]);
  const all = Buffer.allocUnsafe(record.length * count);
  for (let i = 0; i < count; i++) record.copy(all, i * record.length);
  return all;
}

/** Whether `data` is `count` records, each a zigzag varint length and that many bytes (one linear walk). */
function holdsRecords(data: Buffer, count: number): boolean {
  let at = 0;
  for (let i = 0; i < count; i++) {
    let zigzag = 0;
    let shift = 0;
    for (;;) {
      if (at >= data.length || shift > 28) return false;
      const byte = data[at++]!;
      zigzag |= (byte & 0x7f) << shift;
      shift += 7;
      if ((byte & 0x80) === 0) break;
    }
    const length = (zigzag >>> 1) ^ -(zigzag & 1);
    if (length < 0 || at + length > data.length) return false;
    at += length;
  }
  return true;
}

/** The reason a record is a stand-in for an undecodable batch, or undefined for a real record. */
export function undecodable(headers: IHeaders | undefined): string | undefined {
  const reason = headers?.[UNDECODABLE_HEADER];
  if (reason === undefined) return undefined;
  return String(Array.isArray(reason) ? reason[0] : reason);
}

/** Kafka's zigzag varint (32-bit values). */
function varint(value: number): Buffer {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
  const bytes: number[] = [];
  while (zigzag > 0x7f) {
    bytes.push((zigzag & 0x7f) | 0x80);
    zigzag >>>= 7;
  }
  bytes.push(zigzag);
  return Buffer.from(bytes);
}

/** Logs (warn, once per batch and consumer: the stand-ins share one offset) and counts a skipped batch on the gateway's telemetry. */
export function reportSkipped(logger: Logger, telemetry: Telemetry | undefined, api: string, topic: string, partition: number, offset: string, reason: string): void {
  logger.warn({ code: 'KAFKA_BATCH_UNDECODABLE', api, topic, partition, lastOffset: offset, reason }, 'kafka record batch could not be decoded: skipped');
  telemetry?.emit({ kind: 'kafka-batch-skipped', api, topic, partition, reason: 'undecodable' });
}
