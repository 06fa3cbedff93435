/**
 * Write coalescing in the fanout: the deliveries of one turn of the event loop reach each client
 * with one write (DeliverySink.writeMany), in order; a lone message is written at the end of the
 * turn it arrived in (no timer); a client that fell behind catches up with batched writes; and a
 * message on a channel is matched once per channel, not once per client (channel-index.ts).
 */
import { describe, expect, it } from 'vitest';
import { Telemetry } from '../../runtime/metrics/telemetry.ts';
import { Fanout, type ChannelMember, type DeliverySink, type FanoutSettings } from '../../runtime/subscribe/fanout.ts';
import type { Delivery, DeliveryBatch } from '../../runtime/subscribe/delivery.ts';
import type { Message } from '../../core/message.ts';
import { CountingEndpoint } from './counting-endpoint.ts';
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
