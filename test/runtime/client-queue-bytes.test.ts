/**
 * fanout.maxQueuedBytes: a client queue is bounded in bytes as well as in messages, the bytes
 * written to the client but not yet flushed (the sink's buffered()) included; the slow-consumer
 * policy applies at whichever bound comes first.
 */
import { describe, expect, it } from 'vitest';
import { ClientQueue, heldBytes, type DeliverySink, type FanoutSettings, type QueuedBytes } from '../../runtime/subscribe/client-queue.ts';
import { Delivery } from '../../runtime/subscribe/delivery.ts';
import { message } from '../../core/message.ts';
import { Telemetry } from '../../runtime/metrics/telemetry.ts';

const KiB = 1024;
const delivery = (i: number, bytes: number) => new Delivery(message({ id: String(i), content: Buffer.alloc(bytes, i % 256), headers: {}, metadata: {} }));
const queueWith = (settings: Partial<FanoutSettings>, failures: unknown[] = []) =>
  new ClientQueue({ queueSize: 1000, slowConsumerPolicy: 'disconnect', maxQueuedBytes: 64 * KiB, ...settings }, () => undefined, 'x', new Telemetry(), (reason) => failures.push(reason));

/** A sink whose client never reads: the first write fills its buffer (returns false), `unflushed` bytes stay. */
function stalledSink(unflushed: number): DeliverySink & { written: Delivery[]; ended: unknown[] } {
  const written: Delivery[] = [];
  const ended: unknown[] = [];
  return { written, ended, write: (d) => (written.push(d), false), end: (error) => ended.push(error), buffered: () => (written.length > 0 ? unflushed : 0) };
}

describe('client queue byte bound', () => {
  it('disconnects at the byte bound long before the message bound, counting the unflushed socket bytes', async () => {
    const failures: unknown[] = [];
    const queue = queueWith({ maxQueuedBytes: 64 * KiB }, failures);
    const sink = stalledSink(40 * KiB);
    queue.pipe(sink);
    queue.push(delivery(0, 16 * KiB)); // written; 40 KiB stay unflushed
    queue.push(delivery(1, 16 * KiB)); // queued: 40 + 16 = 56 KiB held
    expect(queue.bytes).toBe(56 * KiB);
    expect(failures).toHaveLength(0);
    queue.push(delivery(2, 16 * KiB)); // 72 KiB > 64 KiB: cut, with 2 of 1000 messages queued
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'SLOW_CONSUMER', closeCode: 1013, message: expect.stringContaining(`${64 * KiB} bytes`) });
    expect(sink.ended).toEqual([failures[0]]);
    expect(queue.size).toBe(0);
  });

  it('still applies the message bound when it comes first', () => {
    const failures: unknown[] = [];
    const queue = queueWith({ queueSize: 3, maxQueuedBytes: 1024 * KiB }, failures);
    for (let i = 0; i < 3; i++) queue.push(delivery(i, 10));
    expect(failures).toHaveLength(0);
    queue.push(delivery(3, 10));
    expect(failures[0]).toMatchObject({ code: 'SLOW_CONSUMER', message: expect.stringContaining('3 messages') });
  });

  it('drop-oldest drops as many of the oldest as needed to fit the bytes, and keeps order', async () => {
    const queue = queueWith({ slowConsumerPolicy: 'drop-oldest', maxQueuedBytes: 64 * KiB });
    for (let i = 0; i < 4; i++) queue.push(delivery(i, 16 * KiB)); // 64 KiB: fits exactly
    expect(queue.dropped).toBe(0);
    queue.push(delivery(4, 40 * KiB)); // needs 40 KiB: 0, 1 and 2 go (16 + 40 = 56)
    expect(queue.dropped).toBe(3);
    expect(queue.bytes).toBe(56 * KiB);
    const ids = [(await queue.next()).value!.message.id, (await queue.next()).value!.message.id];
    expect(ids).toEqual(['3', '4']);
    expect(queue.bytes).toBe(0);
  });

  it('admits one message larger than the bound when nothing is held, so a reading client gets it', async () => {
    const failures: unknown[] = [];
    const queue = queueWith({ maxQueuedBytes: 4 * KiB }, failures);
    queue.push(delivery(0, 100 * KiB));
    expect(failures).toHaveLength(0);
    expect((await queue.next()).value!.message.content.length).toBe(100 * KiB);
    queue.push(delivery(1, 100 * KiB));
    queue.push(delivery(2, 1)); // something is held now: 100 KiB + 1 > 4 KiB
    expect(failures[0]).toMatchObject({ code: 'SLOW_CONSUMER' });
  });

  it('counts the encodings a delivery pins (a frame built for another client) besides its content', () => {
    const d = delivery(0, 1000);
    expect(heldBytes(d)).toBe(1000);
    d.encoded('websocket:wire', (m) => Buffer.concat([Buffer.alloc(10), m.content]));
    expect(heldBytes(d)).toBe(2010);
    d.encoded('sse', () => 'not a buffer');
    expect(heldBytes(d)).toBe(2010);
  });

  it('gives the bytes back as the client reads', async () => {
    const sink = { written: [] as Delivery[], write(d: Delivery) { this.written.push(d); return false; }, end() {}, buffered: () => 0 };
    const queue = queueWith({ maxQueuedBytes: 64 * KiB });
    queue.pipe(sink);
    for (let i = 0; i < 4; i++) queue.push(delivery(i, 10 * KiB));
    expect(queue.bytes).toBe(30 * KiB);
    queue.resume(); // writes one, full again
    expect(queue.bytes).toBe(20 * KiB);
    expect(sink.written.map((d) => d.message.id)).toEqual(['0', '1']);
  });

  it('counts a delivery queued for several clients once in the shared total (sluice_fanout_queued_bytes), each queue once for its bound', async () => {
    const ledger: QueuedBytes = { bytes: 0 };
    const settings: FanoutSettings = { queueSize: 1000, slowConsumerPolicy: 'disconnect', maxQueuedBytes: 64 * KiB };
    const failures: unknown[] = [];
    const a = new ClientQueue(settings, () => undefined, 'x', new Telemetry(), undefined, undefined, ledger);
    const b = new ClientQueue(settings, () => undefined, 'x', new Telemetry(), (reason) => failures.push(reason), undefined, ledger);
    const shared = [delivery(0, 20 * KiB), delivery(1, 20 * KiB)];
    for (const d of shared) {
      a.push(d);
      b.push(d);
    }
    expect(ledger.bytes).toBe(40 * KiB);
    expect([a.bytes, b.bytes]).toEqual([40 * KiB, 40 * KiB]);
    await a.next(); // b still pins message 0
    expect(ledger.bytes).toBe(40 * KiB);
    await b.next();
    expect(ledger.bytes).toBe(20 * KiB);
    b.push(delivery(2, 30 * KiB));
    b.push(delivery(3, 30 * KiB)); // b: 20 + 30 + 30 > 64 KiB: cut, its queue released
    expect(failures).toHaveLength(1);
    expect(ledger.bytes).toBe(20 * KiB); // message 1, still queued for a
    await a.return();
    expect(ledger.bytes).toBe(0);
  });
});
