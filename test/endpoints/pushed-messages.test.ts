import { describe, expect, it } from 'vitest';
import { PushedMessages } from '../../runtime/endpoints/pushed-messages.ts';
import { errors } from '../../core/errors.ts';
import type { Message } from '../../core/message.ts';

const message = (id: string, bytes = 1): Message => ({ id, content: Buffer.alloc(bytes, 0x61), headers: {}, metadata: {} }) as unknown as Message;

async function read(pushed: PushedMessages, signal: AbortSignal, count: number): Promise<string[]> {
  const ids: string[] = [];
  for await (const m of pushed.drain(signal)) {
    ids.push(m.id);
    if (ids.length === count) break;
  }
  return ids;
}

describe('PushedMessages: a broker push handed to a subscription reader', () => {
  it('yields in arrival order, waking a reader that waits', async () => {
    const pushed = new PushedMessages('MQTT');
    const reading = read(pushed, new AbortController().signal, 3);
    pushed.push(message('a'));
    await Promise.resolve();
    pushed.push(message('b'));
    setTimeout(() => pushed.push(message('c')), 5);
    expect(await reading).toEqual(['a', 'b', 'c']);
  });

  it('past the count bound the subscription ends with SLOW_CONSUMER after what came before', async () => {
    const pushed = new PushedMessages('NATS', 3, 1_000);
    for (const id of ['1', '2', '3', '4', '5']) pushed.push(message(id));
    const ids: string[] = [];
    const error = await (async () => {
      try {
        for await (const m of pushed.drain(new AbortController().signal)) ids.push(m.id);
      } catch (e) {
        return e as { code: string; status: number; message: string };
      }
    })();
    expect(ids).toEqual(['1', '2', '3']);
    expect(error).toMatchObject({ code: 'SLOW_CONSUMER', status: 503 });
    expect(error!.message).toMatch(/More than 3 NATS messages or 1000 bytes/);
  });

  it('past the byte bound too, and a message read frees its bytes', async () => {
    const pushed = new PushedMessages('RabbitMQ', 100, 10);
    pushed.push(message('a', 6));
    expect(await read(pushed, new AbortController().signal, 1)).toEqual(['a']);
    pushed.push(message('b', 6)); // fits again: 'a' was read
    expect(pushed.failed).toBe(false);
    pushed.push(message('c', 6)); // 12 bytes waiting > 10
    expect(pushed.failed).toBe(true);
  });

  it('a failure (lost connection) reaches the reader after the queued messages; the first failure wins', async () => {
    const pushed = new PushedMessages('MQTT');
    pushed.push(message('a'));
    pushed.fail(errors.endpointUnavailable('the broker was lost'));
    pushed.fail(errors.endpointUnavailable('second'));
    pushed.push(message('dropped'));
    const ids: string[] = [];
    await expect((async () => { for await (const m of pushed.drain(new AbortController().signal)) ids.push(m.id); })()).rejects.toThrow(/the broker was lost/);
    expect(ids).toEqual(['a']);
  });

  it('an abort ends a waiting reader without an error', async () => {
    const pushed = new PushedMessages('MQTT');
    const controller = new AbortController();
    const reading = read(pushed, controller.signal, 5);
    setTimeout(() => controller.abort(), 5);
    expect(await reading).toEqual([]);
  });
});

describe('PushedMessages counts headers as bytes too', () => {
  it('a message with large headers fills the byte bound', () => {
    const pushed = new PushedMessages('RabbitMQ', 100, 1_000);
    pushed.push({ id: 'h', content: Buffer.alloc(1), headers: { big: 'x'.repeat(2_000) }, metadata: {} } as unknown as Message);
    expect(pushed.failed).toBe(true);
  });
});
