/**
 * Kafka as it is found in production, against the suite's real broker and a real `sluice serve`
 * process: record batches compressed by librdkafka (kcat -z gzip|snappy|lz4|zstd) reach SSE and
 * WebSocket clients in order and intact; `producer.compression` writes batches kcat reads, and
 * the broker's log shows them compressed with that codec; a batch that cannot be decoded is
 * skipped (KAFKA_BATCH_UNDECODABLE, sluice_kafka_batches_skipped_total) and later records still
 * arrive.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { makeBundle } from '../support/bundles.ts';
import { connect, waitFor } from '../support/harness.ts';
import { openSse, sseContent } from '../contract/sse-client.ts';
import { run, kcatConsume } from '../brokers-e2e/clients.ts';
import { serve, type ServeProcess } from '../observability/serve-process.ts';
import { scrape } from '../observability/prometheus.ts';

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;
/** The codec bits of a record batch's attributes, as Kafka numbers them. */
const CODEC_ID = { gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
const runId = randomUUID().slice(0, 6);
const topic = (name: string) => `hardening-${name}-${runId}`;

let bootstrap: string;
let admin: Admin;
let gateway: ServeProcess;

const api = (name: string, compression?: string) => ({
  definition: {
    entrypoints: [{ type: 'sse', heartbeatIntervalInMs: 2000 }, { type: 'websocket' }, { type: 'http-post' }],
    endpoints: [{
      type: 'kafka',
      bootstrapServers: [bootstrap],
      consumer: { topics: [topic(name)], autoOffsetReset: 'earliest' },
      ...(compression ? { producer: { topic: `${topic(name)}-out`, compression } } : {}),
    }],
  } as never,
});

/** `kcat -P -z codec`: one batch of these lines, compressed by librdkafka. */
const kcatProduce = (name: string, lines: readonly string[], codec = 'none') =>
  run('kcat', ['-P', '-b', bootstrap, '-t', topic(name), '-z', codec, '-X', 'acks=all', '-X', 'linger.ms=50'], lines.map((l) => `${l}\n`).join(''));

/** The broker's first log segment of partition 0 of `name` (the harness broker keeps its data under the temp dir). */
function segmentFile(name: string): string {
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith('sluice-kafka-')) continue;
    const file = join(tmpdir(), entry, 'data', `${name}-0`, '00000000000000000000.log');
    if (existsSync(file)) return file;
  }
  throw new Error(`no log segment of ${name} under ${tmpdir()}/sluice-kafka-*/data: is the harness broker local?`);
}

interface BatchHeader {
  readonly at: number;
  readonly size: number;
  readonly codec: number;
  readonly records: number;
}

/** The record batches of a segment file (v2 layout: offset 8, length 4, ..., attributes at 21, count at 57). */
function batches(file: string): BatchHeader[] {
  const data = readFileSync(file);
  const found: BatchHeader[] = [];
  for (let at = 0; at + 61 <= data.length; ) {
    const size = 12 + data.readInt32BE(at + 8);
    if (size <= 12) break; // preallocated zeros after the last batch
    found.push({ at, size, codec: data.readInt16BE(at + 21) & 7, records: data.readInt32BE(at + 57) });
    at += size;
  }
  return found;
}

beforeAll(async () => {
  bootstrap = await kafkaBootstrap();
  admin = new Kafka({ clientId: 'hardening-admin', brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [...CODECS.flatMap((c) => [topic(c), `${topic(c)}-out`]), topic('poison')].map((t) => ({ topic: t, numPartitions: 1 })),
  });
  gateway = await serve(makeBundle({
    ...Object.fromEntries(CODECS.map((c) => [c, api(c, c)])),
    poison: api('poison'),
  }));
});

afterAll(async () => {
  await gateway?.stop();
  await admin?.disconnect();
});

describe('compressed record batches', () => {
  for (const codec of CODECS) {
    it(`kcat -z ${codec}: SSE and WebSocket clients get every record in order with its exact content`, async () => {
      // Compressible and incompressible content, one record larger than a snappy block (32 KiB) and an LZ4 block (64 KiB).
      const lines = [`${codec}-first`, 'x'.repeat(100_000), randomUUID().repeat(40), `{"codec":"${codec}","n":3}`, `${codec}-last`];
      await kcatProduce(codec, lines, codec);
      expect(batches(segmentFile(topic(codec))).map((b) => b.codec)).toEqual([CODEC_ID[codec]]);

      const sse = await openSse(`${gateway.url}/${codec}/`);
      const ws = connect(`${gateway.url.replace('http', 'ws')}/${codec}/`);
      try {
        await ws.opened;
        await sse.until((s) => s.events.length >= lines.length, 20_000, `SSE ${codec} records`);
        await waitFor(() => ws.texts().length >= lines.length, 20_000, `WebSocket ${codec} records`);
        expect(sse.events.map((e) => sseContent(e).toString('utf8'))).toEqual(lines);
        expect(ws.texts()).toEqual(lines);
      } finally {
        sse.close();
        ws.ws.close();
      }
    });

    it(`producer.compression ${codec}: HTTP POSTs are written as ${codec} batches that kcat reads`, async () => {
      const bodies = [`posted-${codec}-1`, `posted-${codec}-2 ${'y'.repeat(70_000)}`];
      for (const body of bodies) {
        const res = await fetch(`${gateway.url}/${codec}/`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
        expect(res.status).toBe(202);
      }
      const records = await kcatConsume(bootstrap, `${topic(codec)}-out`, 2);
      expect(records.map((r) => r.payload)).toEqual(bodies);
      const written = batches(segmentFile(`${topic(codec)}-out`));
      expect(written.length).toBeGreaterThan(0);
      expect(written.every((b) => b.codec === CODEC_ID[codec])).toBe(true);
    });
  }
});

describe('a record batch that cannot be decoded', () => {
  it('is skipped with KAFKA_BATCH_UNDECODABLE and a metric; the records after it arrive and the API stays up', async () => {
    // A real zstd batch in the broker's log whose compressed bytes are then overwritten: the
    // broker serves it as it is on disk (fetches are not re-validated), as after a disk or producer bug.
    // librdkafka sends a batch uncompressed when compression does not pay: make it pay.
    await kcatProduce('poison', [`poison-${'p'.repeat(2000)}`], 'zstd');
    const file = segmentFile(topic('poison'));
    const [poisoned] = batches(file);
    expect(poisoned).toMatchObject({ at: 0, codec: CODEC_ID.zstd, records: 1 });
    const fd = openSync(file, 'r+');
    try {
      writeSync(fd, Buffer.alloc(poisoned!.size - 61, 0x5a), 0, poisoned!.size - 61, poisoned!.at + 61);
    } finally {
      closeSync(fd);
    }
    await kcatProduce('poison', ['after-1', 'after-2'], 'zstd');
    await kcatProduce('poison', ['after-3'], 'none');

    const ws = connect(`${gateway.url.replace('http', 'ws')}/poison/`);
    try {
      await ws.opened;
      await waitFor(() => ws.texts().length >= 3, 20_000, 'the records after the undecodable batch');
      expect(ws.texts()).toEqual(['after-1', 'after-2', 'after-3']);
      await kcatProduce('poison', ['live-1'], 'lz4');
      await waitFor(() => ws.texts().length >= 4, 20_000, 'a record produced after the skip');
      expect(ws.texts()).toEqual(['after-1', 'after-2', 'after-3', 'live-1']);

      const skipped = gateway.lines.filter((l) => l.code === 'KAFKA_BATCH_UNDECODABLE');
      expect(skipped).toHaveLength(1);
      expect(skipped[0]).toMatchObject({ level: 40, api: 'poison', topic: topic('poison'), partition: 0, lastOffset: '0' });
      expect(skipped[0]).not.toHaveProperty('stack');
      const metrics = await scrape(gateway.adminUrl);
      expect(metrics.value('sluice_kafka_batches_skipped_total', { api: 'poison', topic: topic('poison'), partition: '0', reason: 'undecodable' })).toBe(1);
      expect(metrics.value('sluice_endpoint_up', { api: 'poison' })).toBe(1);
      expect(gateway.lines.filter((l) => l.api === 'poison' && (l.level ?? 0) >= 40 && l.code !== 'KAFKA_BATCH_UNDECODABLE')).toEqual([]);
      expect(ws.ws.readyState).toBe(ws.ws.OPEN);
    } finally {
      ws.ws.close();
    }
  });
});
