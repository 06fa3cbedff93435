/**
 * The rabbitmq endpoint's pure parts: topic-exchange matching for per-client channels, the
 * routing key template (channel parameters, headers, metadata, constants), and how AMQP
 * deliveries map to message headers and metadata.
 */
import { describe, expect, it } from 'vitest';
import type { ConsumeMessage } from 'amqplib';
import { compileRoutingPattern, rabbitmqChannel, routingKeys } from '../../runtime/endpoints/rabbitmq/channel.ts';
import { wildcardReferences } from '../../core/channel.ts';
import { publishOptions, toMessage } from '../../runtime/endpoints/rabbitmq/message.ts';
import { message } from '../../core/message.ts';
import { GatewayError } from '../../core/errors.ts';

describe('rabbitmq channels', () => {
  it('matches routing keys like a topic exchange: * one word, # zero or more', () => {
    const matches = (pattern: string, key: string) => compileRoutingPattern(pattern)(key);
    expect(matches('orders.*', 'orders.eu')).toBe(true);
    expect(matches('orders.*', 'orders.eu.x')).toBe(false);
    expect(matches('orders.*', 'orders')).toBe(false);
    expect(matches('orders.#', 'orders')).toBe(true);
    expect(matches('orders.#', 'orders.eu.x')).toBe(true);
    expect(matches('orders.#', 'ordersx')).toBe(false);
    expect(matches('#.paid', 'orders.eu.paid')).toBe(true);
    expect(matches('#.paid', 'orders.eu.open')).toBe(false);
    expect(matches('#.paid', 'orders.eu.paidx')).toBe(false);
    expect(matches('#', '')).toBe(true);
    expect(matches('#', 'a.b.c')).toBe(true);
    expect(matches('a.#.z', 'a.z')).toBe(true);
    expect(matches('a.#.z', 'a.b.c.z')).toBe(true);
    expect(matches('a.#.#.z', 'a.z')).toBe(true);
    expect(matches('*.#.*', 'a')).toBe(false);
    expect(matches('*.#.*', 'a.b')).toBe(true);
    expect(matches('a..b', 'a..b')).toBe(true);
    expect(matches('a.*.b', 'a..b')).toBe(true);
  });

  it('a compiled pattern is reused for every key, and hostile patterns stay linear in the key', () => {
    const paid = compileRoutingPattern('orders.*.paid');
    expect(['orders.eu.paid', 'orders.us.open', 'orders.us.paid'].map(paid)).toEqual([true, false, true]);
    // 100 000 words: a backtracking matcher tries about C(100 000, 15) ways to place the #s (beyond
    // any computer) and one that widens every # over the rest of the key ~10^11 steps; matching the
    // pattern's positions word by word is ~3 million.
    const words = 100_000;
    const hostile = compileRoutingPattern(`${'#.a.'.repeat(15)}x`);
    expect(hostile(`${'a.'.repeat(words)}b`)).toBe(false);
    expect(hostile(`${'a.'.repeat(words)}x`)).toBe(true);
    const hashes = compileRoutingPattern('#.#.#.#.#.#.#.#.#.#.x');
    expect(hashes(`${'a.'.repeat(words)}b`)).toBe(false);
    expect(hashes(`${'a.'.repeat(words)}x`)).toBe(true);
  });

  it('binds one wildcard per API and keeps each client to its values', () => {
    expect(wildcardReferences('orders.{region}.#', '*')).toBe('orders.*.#');
    const eu = rabbitmqChannel('orders.{region}.#', { region: 'eu' });
    const at = (routingKey: string) => message({ id: '1', content: Buffer.alloc(0), metadata: { routingKey } });
    expect(eu.accepts(at('orders.eu.paid'))).toBe(true);
    expect(eu.accepts(at('orders.us.paid'))).toBe(false);
    expect(rabbitmqChannel(undefined, { region: 'eu' }).accepts(at('anything'))).toBe(true);
  });

  it('expands the routing key template: channel parameters, headers (any case), metadata, constants', () => {
    const key = routingKeys('orders.{region}.{header.X-Kind}.{metadata.priority}');
    const published = { content: Buffer.from('{}'), headers: { 'x-kind': 'paid' }, metadata: { priority: 5 } };
    expect(key(published, { region: 'eu' })).toBe('orders.eu.paid.5');
    expect(() => key(published, {})).toThrow(GatewayError);
    expect(routingKeys('{header.missing}')(published, undefined)).toBe('');
    expect(routingKeys('fixed.key')(published, undefined)).toBe('fixed.key');
    expect(routingKeys('{$.type}')({ ...published, content: Buffer.from('{"type":"refund"}') }, undefined)).toBe('refund');
  });

  it('a channel value is put in as it is, never read as a placeholder', () => {
    const key = routingKeys('orders.{region}');
    const published = { content: Buffer.from('{"secret":"body"}'), headers: { 'x-kind': 'paid' }, metadata: {} };
    expect(key(published, { region: '{$}' })).toBe('orders.{$}');
    expect(key(published, { region: '{header.x-kind}' })).toBe('orders.{header.x-kind}');
  });
});

describe('rabbitmq messages', () => {
  it('AMQP headers become message headers as text; properties and delivery fields become metadata', () => {
    const delivery = {
      content: Buffer.from([0xff, 0x00]),
      fields: { deliveryTag: 7, redelivered: true, exchange: 'orders', routingKey: 'orders.eu', consumerTag: 'c' },
      properties: {
        headers: { trace: 't1', count: 3, flag: true, bytes: Buffer.from('b'), table: { a: 1 }, none: null },
        contentType: 'application/json', correlationId: 'c-1', messageId: 'm-1', timestamp: 1_700_000_000, priority: 4, deliveryMode: 2,
      },
    } as unknown as ConsumeMessage;
    const m = toMessage('1', delivery);
    expect(m.content).toEqual(Buffer.from([0xff, 0x00]));
    expect(m.headers).toEqual({ trace: 't1', count: '3', flag: 'true', bytes: 'b', table: '{"a":1}' });
    expect(m.metadata).toMatchObject({ exchange: 'orders', routingKey: 'orders.eu', redelivered: true, contentType: 'application/json', correlationId: 'c-1', messageId: 'm-1', priority: 4, deliveryMode: 2, timestamp: 1_700_000_000_000 });
    expect(m.timestamp).toBe(1_700_000_000_000);
  });

  it('publishes headers, persistence and the AMQP properties named in metadata', () => {
    const options = publishOptions({ content: Buffer.from('x'), headers: { a: 'b' }, metadata: { contentType: 'text/plain', correlationId: 'c', priority: 1, other: 'ignored' } }, true);
    expect(options).toMatchObject({ headers: { a: 'b' }, persistent: true, contentType: 'text/plain', correlationId: 'c', priority: 1 });
    expect(options).not.toHaveProperty('other');
  });
});
