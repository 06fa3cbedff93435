/**
 * The benchmark's client process (forked by bench/run.ts with an IPC channel, never in the
 * server's process). Commands arrive as `{ id, cmd, ... }` messages; each gets one reply
 * `{ id, ok, ... }` (or `{ id, ok: false, error }`).
 *
 *   subscribe {kind: 'websocket'|'sse', url, count}   open `count` more subscribers
 *   window {lo, hi}                                  count (and time) only messages with lo <= seq <= hi
 *   stats                                            delivered, lost, latency p50/p99/max (µs), closed
 *   seen {seq}                                       subscribers that got a message with seq >= `seq`
 *   close                                            close every subscriber (and counter)
 *   count {kind, url, count}                         open `count` more cheap counters (bench/counters.ts)
 *   counted {reset?}                                 frames the counters got (then zero them when reset), how many got one
 *   load {kind: 'http-post'|'websocket-publish'|'kafka', …}   see bench/load.ts
 */
import http from 'node:http';
import WebSocket from 'ws';
import { decodePayload, Latencies, nowMicros } from './payload.ts';
import { runLoad, type LoadRequest } from './load.ts';
import { countSse, countWebSocket, type Counter } from './counters.ts';

interface Subscriber {
  count: number;
  maxSeq: number;
  closed: boolean;
  close(): void;
  readonly done: Promise<void>;
}

const subscribers: Subscriber[] = [];
const counters: Counter[] = [];
const latencies = new Latencies();
let lo = Number.POSITIVE_INFINITY;
let hi = Number.NEGATIVE_INFINITY;

function received(subscriber: Subscriber, data: Buffer | string, at: number): void {
  const { seq, t } = decodePayload(data, at);
  if (seq > subscriber.maxSeq) subscriber.maxSeq = seq;
  if (seq < lo || seq > hi) return;
  subscriber.count++;
  latencies.add(nowMicros() - t);
}

function websocket(url: string): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let closed!: () => void;
    const subscriber: Subscriber = { count: 0, maxSeq: -1, closed: false, close: () => ws.close(), done: new Promise((r) => (closed = r)) };
    ws.on('message', (data: Buffer) => received(subscriber, data, 0));
    ws.on('error', (error) => reject(error));
    ws.on('unexpected-response', (_req, res) => reject(new Error(`WebSocket handshake answered ${res.statusCode}`)));
    ws.on('open', () => resolve(subscriber));
    ws.on('close', () => {
      subscriber.closed = true;
      closed();
    });
  });
}

const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });

function sse(url: string): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    let closed!: () => void;
    const req = http.get(url, { agent, headers: { accept: 'text/event-stream' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return reject(new Error(`SSE answered ${res.statusCode}`));
      }
      res.setEncoding('latin1');
      let rest = '';
      res.on('data', (chunk: string) => {
        const text = rest + chunk;
        let start = 0;
        let end: number;
        while ((end = text.indexOf('\n\n', start)) !== -1) {
          const data = text.indexOf('data: ', start);
          if (data !== -1 && data < end) received(subscriber, text, data + 6);
          start = end + 2;
        }
        rest = text.slice(start);
      });
      res.on('close', () => {
        subscriber.closed = true;
        closed();
      });
      resolve(subscriber);
    });
    const subscriber: Subscriber = { count: 0, maxSeq: -1, closed: false, close: () => req.destroy(), done: new Promise((r) => (closed = r)) };
    req.on('error', (error) => {
      subscriber.closed = true;
      closed();
      reject(error);
    });
  });
}

async function subscribe(kind: 'websocket' | 'sse', url: string, count: number): Promise<number> {
  const open = kind === 'websocket' ? websocket : sse;
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => open(url)));
    subscribers.push(...batch);
  }
  return subscribers.length;
}

type Command =
  | { id: number; cmd: 'subscribe'; kind: 'websocket' | 'sse'; url: string; count: number }
  | { id: number; cmd: 'window'; lo: number; hi: number }
  | { id: number; cmd: 'stats' }
  | { id: number; cmd: 'seen'; seq: number }
  | { id: number; cmd: 'close' }
  | { id: number; cmd: 'count'; kind: 'websocket' | 'sse'; url: string; count: number }
  | { id: number; cmd: 'counted'; reset?: boolean }
  | ({ id: number; cmd: 'load' } & LoadRequest);

async function handle(command: Command): Promise<Record<string, unknown>> {
  switch (command.cmd) {
    case 'subscribe':
      return { open: await subscribe(command.kind, command.url, command.count) };
    case 'window':
      lo = command.lo;
      hi = command.hi;
      latencies.reset();
      for (const s of subscribers) s.count = 0;
      return {};
    case 'stats': {
      const expected = Number.isFinite(hi - lo) ? hi - lo + 1 : 0;
      let delivered = 0;
      let lost = 0;
      for (const s of subscribers) {
        delivered += s.count;
        lost += Math.max(0, expected - s.count);
      }
      return { delivered, lost, subscribers: subscribers.length, closed: subscribers.filter((s) => s.closed).length, ...latencies.summary() };
    }
    case 'seen':
      return { seen: subscribers.filter((s) => s.maxSeq >= command.seq).length, subscribers: subscribers.length };
    case 'count': {
      const open = command.kind === 'websocket' ? countWebSocket : countSse;
      for (let i = 0; i < command.count; i += 100) counters.push(...await Promise.all(Array.from({ length: Math.min(100, command.count - i) }, () => open(command.url))));
      return { open: counters.length };
    }
    case 'counted': {
      let frames = 0;
      let receiving = 0;
      for (const c of counters) {
        frames += c.frames;
        if (c.frames > 0) receiving++;
        if (command.reset) c.frames = 0;
      }
      return { frames, receiving, counters: counters.length, closed: counters.filter((c) => c.closed).length };
    }
    case 'close': {
      const all = [...subscribers.splice(0), ...counters.splice(0)];
      for (const s of all) s.close();
      await Promise.race([Promise.all(all.map((s) => s.done)), new Promise((r) => setTimeout(r, 3000))]);
      lo = Number.POSITIVE_INFINITY;
      hi = Number.NEGATIVE_INFINITY;
      return {};
    }
    case 'load':
      return { ...(await runLoad(command)) };
  }
}

process.on('message', (command: Command) => {
  handle(command).then(
    (result) => process.send!({ id: command.id, ok: true, ...result }),
    (error: Error) => process.send!({ id: command.id, ok: false, error: error.message }),
  );
});
process.on('disconnect', () => process.exit(0));
