/**
 * The Kafka record batch codecs on their own: round trips, both snappy framings, the
 * decompression bound (a bomb is refused before its output is allocated), and the stand-in
 * records a batch that cannot be decoded becomes (read back by kafkajs's own batch decoder).
 */
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import snappyjs from 'snappyjs';
import * as snappy from '../../runtime/endpoints/kafka/codecs/snappy.ts';
import * as lz4 from '../../runtime/endpoints/kafka/codecs/lz4.ts';
import * as zstd from '../../runtime/endpoints/kafka/codecs/zstd.ts';
import { MAX_DECOMPRESSED_BATCH_BYTES } from '../../runtime/endpoints/kafka/codecs/limits.ts';
import { decodeOrStandIn, undecodable } from '../../runtime/endpoints/kafka/codecs/undecodable.ts';
import { registerKafkaCodecs } from '../../runtime/endpoints/kafka/codecs/index.ts';

const require = createRequire(import.meta.url);
const RecordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{ records: { offset: string; headers: Record<string, Buffer> }[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;

const CODECS = { snappy, lz4, zstd } as const;
const samples = [Buffer.alloc(0), Buffer.from('a'), Buffer.from('hello kafka '.repeat(20_000)), randomBytes(150_000)];

describe('codecs', () => {
  for (const [name, codec] of Object.entries(CODECS)) {
    it(`${name}: what it compresses decompresses to the same bytes`, async () => {
      for (const sample of samples) expect((await codec.decompress(await codec.compress(sample))).equals(sample)).toBe(true);
    });

    it(`${name}: a bomb over ${MAX_DECOMPRESSED_BATCH_BYTES} bytes is refused`, async () => {
      const bomb = await codec.compress(Buffer.alloc(MAX_DECOMPRESSED_BATCH_BYTES + 1024 * 1024));
      await expect(codec.decompress(bomb)).rejects.toThrow(/too big|over the limit/);
    });
  }

  it('snappy: reads raw blocks (librdkafka, kafkajs-snappy) as well as the xerial framing it writes (Java)', async () => {
    const data = Buffer.from('x'.repeat(100_000));
    expect((await snappy.decompress(Buffer.from(snappyjs.compress(data)))).equals(data)).toBe(true);
    const framed = await snappy.compress(data);
    expect(framed.subarray(0, 8).equals(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]))).toBe(true);
    expect(framed.readInt32BE(16)).toBeLessThan(32 * 1024); // blocks of 32 KiB
  });

  it('lz4: frames declare independent blocks (Kafka\'s Java reader refuses others)', async () => {
    const frame = await lz4.compress(Buffer.from('y'.repeat(200_000)));
    expect(frame[4]! & 0x20).toBe(0x20);
  });
});

/** A record batch v2 as a broker sends it, with `compressed` as its records and `count` announced. */
function batch(codec: number, compressed: Buffer, count: number, lastOffsetDelta: number): Buffer {
  const header = Buffer.alloc(61);
  header.writeBigInt64BE(100n, 0); // first offset
  header.writeInt32BE(61 - 12 + compressed.length, 8);
  header[16] = 2; // magic
  header.writeInt16BE(codec, 21);
  header.writeInt32BE(lastOffsetDelta, 23);
  header.writeBigInt64BE(-1n, 43); // producer id
  header.writeInt32BE(count, 57);
  return Buffer.concat([header, compressed]);
}

describe('a batch that cannot be decoded', () => {
  it('becomes as many stand-ins as it announces, each at its last offset, that kafkajs decodes', async () => {
    registerKafkaCodecs();
    const garbage = Buffer.alloc(200, 0x5a);
    const records = (await RecordBatchDecoder(new Decoder(batch(4, garbage, 3, 7)))).records;
    expect(records).toHaveLength(3);
    expect(records.map((r) => r.offset)).toEqual(['107', '107', '107']);
    expect(undecodable(records[0]!.headers)).toMatch(/zstd/);
  });

  it('a gzip batch over the bound is a stand-in too, with the reason', async () => {
    registerKafkaCodecs();
    const bomb = gzipSync(Buffer.alloc(MAX_DECOMPRESSED_BATCH_BYTES + 1));
    const records = (await RecordBatchDecoder(new Decoder(batch(1, bomb, 1, 0)))).records;
    expect(undecodable(records[0]!.headers)).toMatch(/buffer|length|large/i);
  });

  it('output that does not hold the announced records is a stand-in; a header that does not check out rethrows', async () => {
    const valid = await zstd.compress(Buffer.from('not records'));
    const framed = batch(4, valid, 5, 4).subarray(61);
    expect(undecodable({ h: Buffer.from('x') })).toBeUndefined();
    const standIns = await decodeOrStandIn(framed, 4, zstd.decompress);
    expect(standIns.length).toBeGreaterThan(0);
    await expect(decodeOrStandIn(Buffer.from(valid.subarray(0, 3)), 4, zstd.decompress)).rejects.toThrow();
  });
});
