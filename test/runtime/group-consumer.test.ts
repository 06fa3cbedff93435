/**
 * The consumer the exchange hands a background entrypoint (webhooks): group consumption when the
 * endpoint has it, the endpoint's own stream for a per-subscriber endpoint (the mock), a clear
 * refusal for a shared endpoint without group consumption.
 */
import { describe, expect, it } from 'vitest';
import type { Endpoint, GroupDelivery, GroupStatus } from '../../runtime/endpoints/endpoint.ts';
import type { Message } from '../../core/message.ts';
import { createMock } from '../../runtime/endpoints/mock/mock.ts';
import { compileFlow } from '../../core/policies/flow.ts';
import { groupConsumer } from '../../runtime/subscribe/group-consumer.ts';

const options = (deliver: (message: Message, delivery: GroupDelivery) => Promise<boolean>, statuses: GroupStatus[] = []) => ({
  group: 'g', concurrency: 1, commit: 'after' as const, signal: new AbortController().signal, deliver, onStatus: (s: GroupStatus) => statuses.push(s),
});

describe('groupConsumer', () => {
  it('reads a per-subscriber endpoint (mock) one message at a time until deliver gives one back; no dead letters', async () => {
    const consumer = groupConsumer(createMock({ type: 'mock', messageInterval: 5, messageContent: 'm' }), compileFlow(undefined, 'subscribe'));
    const seen: string[] = [];
    const statuses: GroupStatus[] = [];
    let deadLetter: unknown;
    await consumer.consume(options(async (message, delivery) => {
      seen.push(message.content.toString());
      if (seen.length < 3) return true;
      deadLetter = await delivery.deadLetter({ content: Buffer.from('x'), headers: {}, metadata: {} }).catch((error: unknown) => error);
      return false;
    }, statuses));
    await consumer.stop();
    expect(seen).toEqual(['m', 'm', 'm']);
    expect(statuses).toEqual([{ connected: true, assignment: 'mock' }]);
    expect(deadLetter).toMatchObject({ code: 'DEAD_LETTER_UNSUPPORTED', status: 500 });
  });

  it('refuses a shared endpoint without group consumption (WEBHOOK_ENDPOINT_UNSUPPORTED)', async () => {
    const shared = { ...createMock({ type: 'mock' }), type: 'shared-only', shared: true } as Endpoint;
    const consumer = groupConsumer(shared, compileFlow(undefined, 'subscribe'));
    await expect(consumer.consume(options(async () => true))).rejects.toMatchObject({
      code: 'WEBHOOK_ENDPOINT_UNSUPPORTED', message: 'the shared-only endpoint cannot consume in a group in this runtime',
    });
    await consumer.stop();
  });

  it('hands group consumption to the endpoint when it has it', async () => {
    const calls: string[] = [];
    const grouped = { ...createMock({ type: 'mock' }), shared: true, consumeGroup: async (o: { group: string }) => void calls.push(o.group) } as Endpoint;
    await groupConsumer(grouped, compileFlow(undefined, 'subscribe')).consume(options(async () => true));
    expect(calls).toEqual(['g']);
  });
});
