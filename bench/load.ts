/**
 * Publish load for the benchmark (runs in the client process). Closed loops for `durationMs`:
 *
 * - `http-post`: `concurrency` workers, each POSTs one 256-byte message and waits for the answer
 *   (202 = the broker acknowledged); latency = request to response.
 * - `kafka`: the same with kafkajs `producer.send` (acks -1, like the Kafka endpoint's default): the baseline.
 * - `websocket-publish`: `concurrency` sockets; Sluice does not answer a published frame, so a Kafka
 *   consumer on the topic confirms each message; a socket keeps at most WS_OUTSTANDING unconfirmed.
 *   Latency = send to consumed (end to end, so it includes the consumer's fetch).
 */
import http from 'node:http';
import WebSocket from 'ws';
import { Kafka, logLevel } from 'kafkajs';
import { decodePayload, encodePayload, Latencies, nowMicros } from './payload.ts';

export type LoadRequest =
  | { kind: 'http-post'; url: string; concurrency: number; durationMs: number }
  | { kind: 'kafka'; bootstrap: string; topic: string; concurrency: number; durationMs: number }
  | { kind: 'websocket-publish'; url: string; bootstrap: string; topic: string; concurrency: number; durationMs: number };

export interface LoadResult {
  readonly requests: number;
  readonly perSecond: number;
  readonly errors: number;
  readonly p50: number;
  readonly p99: number;
  readonly latency: 'ack' | 'end-to-end';
}

const WS_OUTSTANDING = 1;

export async function runLoad(request: LoadRequest): Promise<LoadResult> {
  if (request.kind === 'http-post') return closedLoop(request, httpPoster(request.url, request.concurrency));
  if (request.kind === 'kafka') {
    const kafka = new Kafka({ clientId: 'bench-load', brokers: [request.bootstrap], logLevel: logLevel.NOTHING });
    const producer = kafka.producer({ allowAutoTopicCreation: true });
    await producer.connect();
    try {
      return await closedLoop(request, async (seq) => void (await producer.send({ topic: request.topic, acks: -1, messages: [{ value: encodePayload(seq) }] })));
    } finally {
      await producer.disconnect();
    }
  }
  return websocketPublish(request);
}

/** Runs `concurrency` workers calling `send` back to back until the duration is over. */
async function closedLoop(request: { concurrency: number; durationMs: number }, send: (seq: number) => Promise<void>): Promise<LoadResult> {
  const latencies = new Latencies();
  let seq = 0;
  let errors = 0;
  const began = nowMicros();
  const deadline = began + request.durationMs * 1000;
  await Promise.all(Array.from({ length: request.concurrency }, async () => {
    while (nowMicros() < deadline) {
      const start = nowMicros();
      try {
        await send(seq++);
        latencies.add(nowMicros() - start);
      } catch {
        errors++;
      }
    }
  }));
  const seconds = (nowMicros() - began) / 1e6;
  return { requests: latencies.count, perSecond: latencies.count / seconds, errors, ...latencies.summary(), latency: 'ack' };
}

function httpPoster(url: string, concurrency: number): (seq: number) => Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  return (seq) => new Promise<void>((resolve, reject) => {
    const body = encodePayload(seq);
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 202 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function websocketPublish(request: Extract<LoadRequest, { kind: 'websocket-publish' }>): Promise<LoadResult> {
  const kafka = new Kafka({ clientId: 'bench-confirm', brokers: [request.bootstrap], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-confirm-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 });
  const latencies = new Latencies();
  const confirmed = new Map<number, () => void>();
  let began = Number.POSITIVE_INFINITY;
  await consumer.connect();
  await consumer.subscribe({ topics: [request.topic], fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachMessage: async ({ message }) => {
      const { seq, t } = decodePayload(message.value ?? Buffer.alloc(0));
      if (t < began) return;
      latencies.add(nowMicros() - t);
      confirmed.get(seq)?.();
      confirmed.delete(seq);
    },
  });
  await joined;
  const sockets = await Promise.all(Array.from({ length: request.concurrency }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(request.url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  let seq = 0;
  let errors = 0;
  began = nowMicros();
  const deadline = began + request.durationMs * 1000;
  try {
    await Promise.all(sockets.map(async (ws) => {
      ws.on('message', () => errors++); // Sluice answers a published frame only with an error
      const outstanding = new Set<Promise<void>>();
      while (nowMicros() < deadline) {
        while (outstanding.size < WS_OUTSTANDING) {
          const n = seq++;
          const done: Promise<void> = new Promise<void>((resolve) => confirmed.set(n, resolve)).then(() => void outstanding.delete(done));
          outstanding.add(done);
          ws.send(encodePayload(n));
        }
        await Promise.race([...outstanding, new Promise((r) => setTimeout(r, 2000))]);
      }
    }));
  } finally {
    for (const ws of sockets) ws.close();
    await consumer.disconnect();
  }
  const seconds = request.durationMs / 1000;
  return { requests: latencies.count, perSecond: latencies.count / seconds, errors, ...latencies.summary(), latency: 'end-to-end' };
}
