import { describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createMock, RECORD_LIMIT } from '../../runtime/endpoints/mock/mock.ts';
import type { Message } from '../../core/message.ts';

async function take(iterable: AsyncIterable<Message>, n: number): Promise<Message[]> {
  const out: Message[] = [];
  for await (const m of iterable) {
    out.push(m);
    if (out.length === n) break;
  }
  return out;
}

describe('mock endpoint', () => {
  it('gives each subscriber its own sequence from "0", the first message one interval after subscribing', async () => {
    const mock = createMock({ type: 'mock', messageInterval: 100 });
    await mock.start();
    const started = Date.now();
    const [a, b] = await Promise.all([take(mock.subscribe({ signal: new AbortController().signal }), 3), take(mock.subscribe({ signal: new AbortController().signal }), 2)]);
    expect(a.map((m) => m.id)).toEqual(['0', '1', '2']);
    expect(b.map((m) => m.id)).toEqual(['0', '1']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(295);
    expect(a[0]!.content.toString()).toBe('mock message');
    expect(mock.shared).toBe(false);
    expect(mock.resumable).toBe(true);
    await mock.stop();
  });

  it('does not deliver before one interval', async () => {
    const mock = createMock({ type: 'mock', messageInterval: 200 });
    const started = Date.now();
    const [first] = await take(mock.subscribe({ signal: new AbortController().signal }), 1);
    expect(first!.id).toBe('0');
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
  });

  it('honours content, headers, metadata and messageCount', async () => {
    const mock = createMock({ type: 'mock', messageInterval: 5, messageContent: 'hi', messageCount: 3, headers: { h: '1' }, metadata: { m: true } });
    const all = await take(mock.subscribe({ signal: new AbortController().signal }), 10);
    expect(all.map((m) => m.id)).toEqual(['0', '1', '2']);
    expect(all[2]).toMatchObject({ headers: { h: '1' }, metadata: { m: true } });
    expect(all[2]!.content.toString()).toBe('hi');
  });

  it('resumes at n+1 from cursor n, within messageCount', async () => {
    const mock = createMock({ type: 'mock', messageInterval: 5, messageCount: 6 });
    expect((await take(mock.subscribe({ cursor: '3', signal: new AbortController().signal }), 10)).map((m) => m.id)).toEqual(['4', '5']);
    await expect(take(mock.subscribe({ cursor: 'x', signal: new AbortController().signal }), 1)).rejects.toMatchObject({ code: 'INVALID_CURSOR', status: 400 });
  });

  it('ends the iteration when the signal aborts or the endpoint stops', async () => {
    const mock = createMock({ type: 'mock', messageInterval: 10_000 });
    const controller = new AbortController();
    const ended = take(mock.subscribe({ signal: controller.signal }), 1);
    controller.abort();
    expect(await ended).toEqual([]);
    const second = take(mock.subscribe({ signal: new AbortController().signal }), 1);
    await mock.stop();
    expect(await second).toEqual([]);
  });

  it('records published messages in a bounded ring and resolves', async () => {
    const mock = createMock({ type: 'mock' });
    for (let i = 0; i < RECORD_LIMIT + 5; i++) await mock.publish({ content: Buffer.from(String(i)), headers: {}, metadata: {} });
    const recorded = mock.recorded();
    expect(recorded).toHaveLength(RECORD_LIMIT);
    expect(recorded[0]!.content.toString()).toBe('5');
    expect(recorded.at(-1)!.content.toString()).toBe(String(RECORD_LIMIT + 4));
  });

  it('releases what each subscription held: 50,000 subscribe/leave cycles do not grow the heap', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const mock = createMock({ type: 'mock', messageInterval: 10_000 });
    await mock.start();
    const cycles = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const controller = new AbortController();
        const iterator = mock.subscribe({ signal: controller.signal })[Symbol.asyncIterator]();
        const next = iterator.next();
        controller.abort();
        await next;
      }
    };
    await cycles(5_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    await cycles(50_000);
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // A listener or linked signal kept per subscription on the endpoint's lifetime costs kilobytes each (over 100 MB here).
    expect(grown).toBeLessThan(4 * 1024 * 1024);
    await mock.stop();
  }, 60_000);

  it('waits a messageInterval longer than a node timer can (24.8 days) instead of firing at once', async () => {
    const mock = createMock({ type: 'mock', messageInterval: 3_000_000_000 });
    await mock.start();
    const controller = new AbortController();
    const first = take(mock.subscribe({ signal: controller.signal }), 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    controller.abort();
    expect(await first).toEqual([]);
    await mock.stop();
  });
});
