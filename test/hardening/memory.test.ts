/**
 * Memory stays bounded per client in bytes (fanout.maxQueuedBytes, default 1 MiB): `sluice serve`
 * as a child process on a real Kafka topic, two WebSocket clients that never read (their sockets
 * paused after the handshake), one SSE client that never reads either, and one healthy WebSocket
 * client, 100 records of 512 KiB. The gateway's RSS
 * (VmRSS of the process) grows by less than 64 MiB while they are connected, the slow clients are
 * cut (WebSocket 1013, SSE SLOW_CONSUMER), RSS comes back down once they are gone, and the healthy client gets every record
 * in order.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { kafkaBootstrap } from '../support/brokers/brokers.ts';
import { serve, type ServeProcess } from '../observability/serve-process.ts';
import { makeBundle } from '../support/bundles.ts';
import { connect, waitFor, within, type Client } from '../support/harness.ts';

const MiB = 1024 * 1024;
const RECORD_BYTES = 512 * 1024;
const RECORDS = 100;
const topic = `hardening-memory-${randomUUID().slice(0, 8)}`;
let gateway: ServeProcess;
let producer: Producer;

/** The gateway process's resident set, from /proc (what the kernel charges it, Buffers included). */
function rss(): number {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${gateway.pid}/status`, 'utf8'));
  if (!line) throw new Error('no VmRSS line');
  return Number(line[1]) * 1024;
}

/** A record's payload: its sequence number first, then filler up to RECORD_BYTES. */
function record(seq: number): Buffer {
  const value = Buffer.alloc(RECORD_BYTES, 'x');
  value.write(`seq:${String(seq).padStart(6, '0')};`, 0, 'latin1');
  return value;
}

const wsUrl = () => `${gateway.url.replace(/^http/, 'ws')}/memory/`;

/** An SSE client that stops reading once the response headers came: resolves with its status. */
function stalledEventStream(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${gateway.url}/memory/`, { headers: { Accept: 'text/event-stream' } }, (res) => {
      res.socket.pause();
      res.pause();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
}

beforeAll(async () => {
  const bootstrap = await kafkaBootstrap();
  const kafka = new Kafka({ clientId: 'hardening-memory', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: String(2 * MiB) }] }], waitForLeaders: true });
  await admin.disconnect();
  producer = kafka.producer();
  await producer.connect();
  // The default fanout.maxQueuedBytes (1 MiB) applies: the API does not set it.
  gateway = await serve(makeBundle({
    memory: { definition: { contextPaths: ['/memory/'], entrypoints: [{ type: 'websocket' }, { type: 'sse' }], endpoints: [{ type: 'kafka', bootstrapServers: [bootstrap], consumer: { topics: [topic] } }] } },
  }), [], {
    LOG_LEVEL: 'info',
    // glibc keeps freed 512 KiB chunks in its heap once its dynamic mmap threshold rose: a fixed
    // threshold maps each large Buffer on its own, so RSS shows what is held, not what was once.
    MALLOC_MMAP_THRESHOLD_: '131072',
  });
}, 120_000);
afterAll(async () => {
  await gateway?.stop();
  await producer?.disconnect();
});

describe('memory per client is bounded in bytes', () => {
  it('keeps RSS growth under 64 MiB with clients that never read, cuts them (1013, SSE SLOW_CONSUMER), and the healthy client gets every record', async () => {
    const healthy = connect(wsUrl());
    await within(healthy.opened, 5000, 'the healthy client to open');
    // The shared consumer joins its group in the background: produce until the healthy client gets one.
    await within((async () => {
      while (healthy.messages.length === 0) {
        await producer.send({ topic, messages: [{ value: 'warm-up' }] });
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })(), 30_000, 'the first record through the shared consumer');
    await new Promise((resolve) => setTimeout(resolve, 500));
    const warmUps = healthy.messages.length;

    const slow: Client[] = [connect(wsUrl()), connect(wsUrl())];
    await within(Promise.all(slow.map((c) => c.opened)), 5000, 'the slow clients to open');
    for (const client of slow) (client.ws as unknown as { _socket: Socket })._socket.pause();
    expect(await stalledEventStream()).toBe(200);
    const baseline = rss();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 25);

    try {
      // Paced (about 20 MiB/s): the healthy client shares this loaded process with the producer, and
      // a client whose reading stalls for long is a slow consumer too.
      for (let seq = 0; seq < RECORDS; seq++) {
        await producer.send({ topic, messages: [{ value: record(seq) }] });
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      await waitFor(() => healthy.messages.length >= warmUps + RECORDS, 60_000, `the healthy client to get ${RECORDS} records`);
      // Both slow clients were cut by the slow-consumer policy: their connections' log lines say 1013.
      const cut = () => gateway.lines.filter((l) => l.entrypoint === 'websocket' && l.closeCode === 1013);
      await waitFor(() => cut().length === 2, 20_000, 'both slow WebSocket clients to be cut with 1013');
      // The SSE client too (its stream ended: the connection's log line is written).
      const slowCuts = () => gateway.lines.filter((l) => l.msg === 'slow consumer disconnected');
      await waitFor(() => slowCuts().length === 3 && gateway.lines.some((l) => l.entrypoint === 'sse' && l.status === 200), 20_000, 'the slow SSE client to be cut');
    } catch (error) {
      const notable = gateway.lines.filter((l) => (l.level ?? 0) >= 40 || l.entrypoint !== undefined);
      throw new Error(`${(error as Error).message}; healthy got ${healthy.messages.length - warmUps}; gateway said:\n${notable.map((l) => JSON.stringify(l)).join('\n')}`);
    } finally {
      clearInterval(sampler);
    }
    const growth = peak - baseline;
    expect(growth, `RSS grew by ${(growth / MiB).toFixed(1)} MiB (baseline ${(baseline / MiB).toFixed(1)} MiB)`).toBeLessThan(64 * MiB);

    const got = healthy.messages.slice(warmUps).map((m) => m.data.subarray(0, 11).toString('latin1'));
    expect(got).toEqual(Array.from({ length: RECORDS }, (_, seq) => `seq:${String(seq).padStart(6, '0')};`));
    expect(healthy.messages.slice(warmUps).every((m) => m.data.length === RECORD_BYTES)).toBe(true);

    // Once the slow clients are gone their buffers are freed: RSS settles back to at most half the
    // 64 MiB bound (a loaded machine collects late; without the cut it only ever grows)
    // (more records keep the gateway allocating, so V8 collects what the cut released).
    let after = rss();
    const settle = Date.now() + 20_000;
    for (let seq = RECORDS; after - baseline > 32 * MiB && Date.now() < settle; seq++) {
      await producer.send({ topic, messages: [{ value: record(seq) }] });
      await new Promise((resolve) => setTimeout(resolve, 100));
      after = rss();
    }
    console.log(`memory: baseline ${(baseline / MiB).toFixed(1)} MiB, peak +${(growth / MiB).toFixed(1)} MiB, after +${((after - baseline) / MiB).toFixed(1)} MiB`);
    expect(after - baseline, `RSS after the cut: +${((after - baseline) / MiB).toFixed(1)} MiB`).toBeLessThan(32 * MiB);
    healthy.ws.close();
    for (const client of slow) client.ws.terminate();
  }, 180_000);
});
