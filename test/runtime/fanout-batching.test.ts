/**
 * Write coalescing in the fanout: the deliveries of one turn of the event loop reach each client
 * with one write (DeliverySink.writeMany), in order; a lone message is written at the end of the
 * turn it arrived in (no timer); a client that fell behind catches up with batched writes; and a
 * message on a channel is matched once per channel, not once per client (channel-index.ts); a turn
 * reaching clients of several entrypoints is joined once per encoding, not once per client.
 */
import { describe, expect, it } from 'vitest';
import { Telemetry } from '../../runtime/metrics/telemetry.ts';
import { Fanout, type ChannelMember, type DeliverySink, type FanoutSettings } from '../../runtime/subscribe/fanout.ts';
import type { Delivery, DeliveryBatch } from '../../runtime/subscribe/delivery.ts';
import type { Message } from '../../core/message.ts';
import { CountingEndpoint } from './counting-endpoint.ts';
import { pipe, type Encodings } from '../../runtime/entrypoints/sse-pipe.ts';
import { SocketSink, type WireEncoding } from '../../runtime/entrypoints/websocket-sink.ts';
import type { HttpContext } from '../../runtime/entrypoints/entrypoint.ts';
import { waitFor } from '../support/harness.ts';

const settings: FanoutSettings = { queueSize: 1000, slowConsumerPolicy: 'disconnect', maxQueuedBytes: 1024 * 1024 };
/** The end of the current turn of the event loop, and of the next one (the fanout hands a turn on in a setImmediate). */
const turns = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));

/** A client socket stand-in: counts write calls (one per system call on a real socket) and what was written. */
class CountingSink implements DeliverySink {
  writes = 0;
  readonly ids: string[] = [];
  readonly batches: DeliveryBatch[] = [];
  /** false: the send buffer is full after every write (a client that does not read). */
  room = true;
  ended: unknown[] = [];
  write(delivery: Delivery): boolean {
    this.writes++;
    this.ids.push(delivery.message.id);
    return this.room;
  }
  writeMany(batch: DeliveryBatch): boolean {
    this.writes++;
    this.batches.push(batch);
    for (const delivery of batch.deliveries) this.ids.push(delivery.message.id);
    return this.room;
  }
  end(error?: unknown): void {
    this.ended.push(error);
  }
}

async function piped(count: number, fanout: Fanout, endpoint: CountingEndpoint, member?: (i: number) => ChannelMember | undefined): Promise<CountingSink[]> {
  const sinks = Array.from({ length: count }, (_, i) => {
    const sink = new CountingSink();
    fanout.attach(new AbortController().signal, undefined, undefined, member?.(i)).pipe(sink);
    return sink;
  });
  await waitFor(() => endpoint.activeSubscriptions === 1, 1000, 'the upstream');
  return sinks;
}

/** A client socket stand-in that keeps what was written to it (never full). */
class Wire {
  writableLength = 0;
  readonly parts: Buffer[] = [];
  write(bytes: Buffer): boolean {
    this.parts.push(bytes);
    return true;
  }
  get text(): string {
    return Buffer.concat(this.parts).toString();
  }
}

/** The real SSE and WebSocket sinks on stand-in sockets; each encoding counts the deliveries it is asked for. */
function entrypointClients() {
  const calls = { event: 0, chunk: 0, frame: 0 };
  const memo = (key: 'event' | 'chunk' | 'frame', encode: (m: Message) => string) => (delivery: Delivery) =>
    (calls[key]++, delivery.encoded(key, (m: Message) => Buffer.from(encode(m))));
  const encodings: Encodings = { eventKey: 'event', event: memo('event', (m) => `data:${m.content}\n\n`), chunkKey: 'chunk', chunk: memo('chunk', (m) => `<data:${m.content}\n\n>`) };
  const wire: WireEncoding = { key: 'frame', of: memo('frame', (m) => `[${m.content}]`) };
  const connection = () => ({ messages: 0, aborted: false, abort: () => undefined });
  return {
    calls,
    /** An SSE client: chunked (HTTP/1.1, the pre-framed chunk straight to the socket) or not (HTTP/1.0, the event to res). */
    sse(queue: ReturnType<Fanout['attach']>, chunked: boolean): Wire {
      const socket = new Wire();
      const res = Object.assign(new Wire(), { socket, chunkedEncoding: chunked, writableEnded: false, destroyed: false });
      pipe(queue, { res, connection: connection() } as unknown as HttpContext, encodings, () => undefined);
      return chunked ? socket : res;
    },
    websocket(queue: ReturnType<Fanout['attach']>): Wire {
      const socket = new Wire();
      const ws = { readyState: 1, OPEN: 1 } as unknown as ConstructorParameters<typeof SocketSink>[1];
      queue.pipe(new SocketSink(queue, ws, socket as never, connection(), wire, () => undefined));
      return socket;
    },
  };
}

/** After every pending promise reaction (the fanout's pump), within the same turn of the event loop. */
const endOfMicrotasks = () => new Promise<void>((resolve) => process.nextTick(resolve));
const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

describe('fanout write coalescing', () => {
  it('a burst of 50 messages in one turn: each client gets all of them, in order, with ONE write, the bytes joined once', async () => {
    const endpoint = new CountingEndpoint();
    const fanout = new Fanout(endpoint, (m) => m, settings, 'x', new Telemetry());
    const sinks = await piped(3, fanout, endpoint);
    for (let i = 0; i < 50; i++) endpoint.emit(`m${i}`);
    await turns();
    for (const sink of sinks) {
      expect(sink.ids).toEqual(ids(0, 50));
      expect(sink.writes).toBe(1);
    }
    // The same batch for every client: its joined bytes are built once.
    expect(new Set(sinks.map((s) => s.batches[0]))).toHaveProperty('size', 1);
    let joins = 0;
    const encode = (d: Delivery) => (joins++, d.message.content);
    const bytes = sinks.map((s) => s.batches[0]!.joined('k', encode));
    expect(joins).toBe(50);
    expect(bytes[0]!.toString()).toBe(ids(0, 50).map((i) => `m${i}`).join(''));
    expect(bytes[1]).toBe(bytes[0]);
    fanout.close(new Error('done'));
  });

  it('a turn reaching SSE and WebSocket clients (alternately attached) is joined once per encoding, not once per client', async () => {
    const endpoint = new CountingEndpoint();
    const fanout = new Fanout(endpoint, (m) => m, settings, 'x', new Telemetry());
    const clients = entrypointClients();
    const attach = () => fanout.attach(new AbortController().signal);
    // SSE (chunked), WebSocket, SSE over HTTP/1.0 (events, not chunks), and again: three encodings, two clients each.
    const wires = [0, 1].flatMap(() => [clients.sse(attach(), true), clients.websocket(attach()), clients.sse(attach(), false)]);
    await waitFor(() => endpoint.activeSubscriptions === 1, 1000, 'the upstream');
    for (let i = 0; i < 10; i++) endpoint.emit(`m${i}`);
    await turns();
    const each = (format: (i: number) => string) => ids(0, 10).map((i) => format(Number(i))).join('');
    for (const i of [0, 3]) expect(wires[i]!.text).toBe(each((n) => `<data:m${n}\n\n>`));
    for (const i of [1, 4]) expect(wires[i]!.text).toBe(each((n) => `[m${n}]`));
    for (const i of [2, 5]) expect(wires[i]!.text).toBe(each((n) => `data:m${n}\n\n`));
    for (const wire of wires) expect(wire.parts).toHaveLength(1); // one write per client
    // Each encoding joined the 10 deliveries once (per client it would be 20).
    expect(clients.calls).toEqual({ chunk: 10, frame: 10, event: 10 });
    fanout.close(new Error('done'));
  });

  it('a lone message is written at the end of the turn it arrived in, with one write (no timer)', async () => {
    const endpoint = new CountingEndpoint();
    const fanout = new Fanout(endpoint, (m) => m, settings, 'x', new Telemetry());
    const [sink] = await piped(1, fanout, endpoint);
    endpoint.emit('alone');
    expect(sink!.writes).toBe(0); // not yet: the rest of this turn may bring more
    await turns();
    expect(sink!.ids).toEqual(['0']);
    expect(sink!.writes).toBe(1);
    fanout.close(new Error('done'));
  });

  it('a turn is bounded: 150 messages at once go out as 64 + 64 + 22, still in order', async () => {
    const endpoint = new CountingEndpoint();
    const fanout = new Fanout(endpoint, (m) => m, settings, 'x', new Telemetry());
    const [sink] = await piped(1, fanout, endpoint);
    for (let i = 0; i < 150; i++) endpoint.emit();
    await turns();
    expect(sink!.ids).toEqual(ids(0, 150));
    expect(sink!.batches.map((b) => b.deliveries.length)).toEqual([64, 64, 22]);
    fanout.close(new Error('done'));
  });

  it('a client that joins mid-turn gets only what arrived after it joined', async () => {
    const endpoint = new CountingEndpoint();
    const fanout = new Fanout(endpoint, (m) => m, settings, 'x', new Telemetry());
    const [first] = await piped(1, fanout, endpoint);
    for (let i = 0; i < 3; i++) endpoint.emit();
    await endOfMicrotasks(); // the pump took them, the turn is not over
    expect(first!.ids).toEqual([]);
    const late = new CountingSink();
    fanout.attach(new AbortController().signal).pipe(late);
    for (let i = 0; i < 2; i++) endpoint.emit();
    await turns();
    expect(first!.ids).toEqual(ids(0, 5));
    expect(late.ids).toEqual(ids(3, 2));
    fanout.close(new Error('done'));
  });

  it('a client whose send buffer filled catches up on its queue with batched writes, in order, within its bounds', async () => {
    const endpoint = new CountingEndpoint();
    const fanout = new Fanout(endpoint, (m) => m, { ...settings, queueSize: 200 }, 'x', new Telemetry());
    const queue = fanout.attach(new AbortController().signal);
    const sink = new CountingSink();
    sink.room = false;
    queue.pipe(sink);
    await waitFor(() => endpoint.activeSubscriptions === 1, 1000, 'the upstream');
    for (let i = 0; i < 40; i++) endpoint.emit();
    await turns();
    expect(sink.writes).toBe(1); // the turn's batch filled the buffer
    for (let i = 0; i < 150; i++) endpoint.emit();
    await turns();
    expect(queue.size).toBe(150); // queued (bounded by queueSize 200), not written
    sink.room = true;
    queue.resume();
    expect(sink.ids).toEqual(ids(0, 190));
    expect(sink.writes).toBe(1 + 3); // 150 queued: 64 + 64 + 22
    expect(sink.ended).toEqual([]);
    fanout.close(new Error('done'));
  });

  it('channels: each client gets only its channel, in order; the filter runs once per channel and message, not per client', async () => {
    const endpoint = new CountingEndpoint();
    const fanout = new Fanout(endpoint, (m) => m, settings, 'x', new Telemetry());
    let tests = 0;
    const on = (channel: string): ChannelMember => ({
      accepts: (m: Message) => (tests++, m.content.toString().startsWith(channel)),
      channel: { id: channel },
      context: {} as ChannelMember['context'],
    });
    const sinks = await piped(20, fanout, endpoint, (i) => on(i % 2 === 0 ? 'a' : 'b'));
    for (let i = 0; i < 10; i++) endpoint.emit(`${i % 2 === 0 ? 'a' : 'b'}${i}`);
    await turns();
    for (const [i, sink] of sinks.entries()) {
      expect(sink.ids).toEqual(i % 2 === 0 ? ['0', '2', '4', '6', '8'] : ['1', '3', '5', '7', '9']);
      expect(sink.writes).toBe(1);
    }
    expect(tests).toBe(2 * 10); // 2 channels x 10 messages (a filter per client would be 200)
    fanout.close(new Error('done'));
  });

  it('channels with an exact key (MQTT topic, Kafka record key) are looked up by the message key, the others not tested', async () => {
    const endpoint = Object.assign(new CountingEndpoint(), { channelKeyOf: (m: Message) => m.content.toString().slice(0, 1) });
    const fanout = new Fanout(endpoint, (m) => m, settings, 'x', new Telemetry());
    let tests = 0;
    const channels = 'abcdefghij'.split('');
    const sinks = await piped(channels.length, fanout, endpoint, (i) => ({
      accepts: (m: Message) => (tests++, m.content.toString().startsWith(channels[i]!)),
      channel: { id: channels[i]!, key: channels[i]! },
      context: {} as ChannelMember['context'],
    }));
    for (let i = 0; i < 20; i++) endpoint.emit(`${channels[i % 10]}${i}`);
    await turns();
    for (const [i, sink] of sinks.entries()) expect(sink.ids).toEqual([String(i), String(i + 10)]);
    expect(tests).toBe(20); // the one matching channel per message (testing each would be 200)
    fanout.close(new Error('done'));
  });

  it('a close (redeploy, gateway stopping) hands on what the turn already took before the clients end', async () => {
    const endpoint = new CountingEndpoint();
    const fanout = new Fanout(endpoint, (m) => m, settings, 'x', new Telemetry());
    const [sink] = await piped(1, fanout, endpoint);
    for (let i = 0; i < 3; i++) endpoint.emit();
    await endOfMicrotasks(); // the pump took them, the turn is not over
    expect(sink!.ids).toEqual([]);
    const reason = new Error('redeployed');
    fanout.close(reason);
    expect(sink!.ids).toEqual(ids(0, 3));
    expect(sink!.ended).toEqual([reason]);
  });
});
