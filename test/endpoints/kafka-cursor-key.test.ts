import { describe, expect, it } from 'vitest';
import { CursorTracker, checkPartitions, decodeCursor, kafkaCursorOrder } from '../../runtime/endpoints/kafka/cursor.ts';
import { compileRecordKey } from '../../runtime/endpoints/message-template.ts';
import { channelRecordKey } from '../../runtime/endpoints/kafka/channel.ts';
import { GatewayError } from '../../core/errors.ts';
import { message } from '../../core/message.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64url');

describe('kafka cursor', () => {
  it('encodes every known partition as topic@partition#offset, sorted, "," between partitions and ";" between topics', () => {
    const tracker = new CursorTracker(new Map([['orders', new Map([[1, 6n], [0, -1n]])]]));
    expect(Buffer.from(tracker.advance('orders', 0, 41n), 'base64url').toString()).toBe('orders@0#41,1#6');
    expect(Buffer.from(tracker.advance('audit', 2, 3n), 'base64url').toString()).toBe('audit@2#3;orders@0#41,1#6');
  });

  it('decodes what it encodes', () => {
    const cursor = b64('a.b-c_d@0#5,3#-1;z@7#9007199254740993');
    expect(decodeCursor(cursor)).toEqual(new Map([['a.b-c_d', new Map([[0, 5n], [3, -1n]])], ['z', new Map([[7, 9007199254740993n]])]]));
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/'],
    ['no topic', b64('@0#1')],
    ['bad topic', b64('a b@0#1')],
    ['no offset', b64('t@0')],
    ['offset below -1', b64('t@0#-2')],
    ['duplicate topic', b64('t@0#1;t@1#1')],
    ['extra separator', b64('t@0#1#2')],
    ['too long', 'A'.repeat(20_000)],
    ['a partition twice', b64('t@0#1,0#2')],
    ['100,000 partitions', b64(`t@${Array.from({ length: 100_000 }, (_, p) => `${p}#1`).join(',')}`)],
  ])('refuses a malformed cursor (%s) with 400 INVALID_CURSOR', (_name, cursor) => {
    const error = (() => {
      try {
        decodeCursor(cursor);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 400, code: 'INVALID_CURSOR' });
  });
});

describe('kafka cursor order (the hand-over from a catch-up consumer onto the fanout)', () => {
  const order = kafkaCursorOrder;
  const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
  const record = (topic: string, partition: number, offset: string) => message({ id: '', content: Buffer.alloc(0), metadata: { topic, partition, offset } });

  it('covers: every partition of the target passed, a partition absent from the passed side is not', () => {
    const target = order.decode(cursor('orders@0#5,1#7'));
    expect(order.covers(order.decode(cursor('orders@0#5,1#7')), target)).toBe(true);
    expect(order.covers(order.decode(cursor('orders@0#9,1#8;audit@0#1')), target)).toBe(true);
    expect(order.covers(order.decode(cursor('orders@0#9,1#6')), target)).toBe(false);
    expect(order.covers(order.decode(cursor('orders@0#9')), target)).toBe(false);
    expect(order.covers(order.decode(cursor('orders@0#9')), order.decode(cursor('orders@1#-1')))).toBe(true);
  });

  it('passed: a record at or below the floor of its partition; other partitions, topics and records without a position are not', () => {
    const floor = order.decode(cursor('orders@0#5,1#7'));
    expect(order.passed(floor, record('orders', 0, '5'))).toBe(true);
    expect(order.passed(floor, record('orders', 0, '4'))).toBe(true);
    expect(order.passed(floor, record('orders', 0, '6'))).toBe(false);
    expect(order.passed(floor, record('orders', 2, '0'))).toBe(false);
    expect(order.passed(floor, record('audit', 0, '0'))).toBe(false);
    expect(order.passed(floor, message({ id: '', content: Buffer.alloc(0) }))).toBe(false);
  });

  it('decode refuses what is not a Kafka cursor (400 INVALID_CURSOR)', () => {
    expect(() => order.decode('not a cursor')).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR', status: 400 }));
  });
});

describe('kafka cursor partitions', () => {
  it('refuses a partition the topic does not have (so also more partitions than it has), naming topic and partition', () => {
    const cursor = decodeCursor(b64('orders@0#1,7#2;audit@0#1'));
    expect(() => checkPartitions(cursor, 'orders', 8)).not.toThrow();
    expect(() => checkPartitions(cursor, 'audit', 1)).not.toThrow();
    expect(() => checkPartitions(cursor, 'orders', 2)).toThrow(expect.objectContaining({ status: 400, code: 'INVALID_CURSOR', message: expect.stringContaining('partition 7 of topic "orders", which has 2 partitions') }));
    expect(() => checkPartitions(decodeCursor(b64('orders@0#1,1#1,2#1')), 'orders', 2)).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR' }));
  });

  it('refuses an oversized cursor before decoding it', () => {
    const huge = b64(`t@${Array.from({ length: 100_000 }, (_, p) => `${p}#1`).join(',')}`);
    const started = performance.now();
    expect(() => decodeCursor(huge)).toThrow(expect.objectContaining({ code: 'INVALID_CURSOR' }));
    expect(performance.now() - started).toBeLessThan(50);
  });
});

describe('kafka record key', () => {
  const msg = (content: string, headers: Record<string, string> = {}, metadata: Record<string, string> = {}) =>
    ({ content: Buffer.from(content), headers, metadata });

  it('reads a header (case-insensitive), metadata, or a JSON path; a constant stays a constant', () => {
    expect(compileRecordKey('{header.X-Order-Id}')(msg('', { 'x-order-id': '42' }))).toBe('42');
    expect(compileRecordKey('{metadata.region}')(msg('', {}, { region: 'eu' }))).toBe('eu');
    expect(compileRecordKey('{$.customer.id}')(msg('{"customer":{"id":7}}'))).toBe('7');
    expect(compileRecordKey('{$.items[1].sku}')(msg('{"items":[{"sku":"a"},{"sku":"b"}]}'))).toBe('b');
    expect(compileRecordKey('fixed')(msg('x'))).toBe('fixed');
    expect(compileRecordKey('order-{$.id}-{header.v}')(msg('{"id":1}', { v: '2' }))).toBe('order-1-2');
  });

  it('no key when a lone placeholder finds nothing; empty text inside a template; never a prototype property', () => {
    expect(compileRecordKey('{header.missing}')(msg(''))).toBeNull();
    expect(compileRecordKey('{$.id}')(msg('not json'))).toBeNull();
    expect(compileRecordKey('{$.constructor}')(msg('{}'))).toBeNull();
    expect(compileRecordKey('k-{$.id}')(msg('{}'))).toBe('k-');
  });
});

describe('kafka record key with channel parameters', () => {
  it('puts a caller value in as it is: braces in it are never read as a placeholder', () => {
    const key = channelRecordKey('{tenant}-{header.kind}');
    const published = { content: Buffer.from('{"secret":"body"}'), headers: { kind: 'paid' }, metadata: {} };
    expect(key(published, { tenant: 'acme' })).toBe('acme-paid');
    expect(key(published, { tenant: '{$}' })).toBe('{$}-paid');
    expect(key(published, {})).toBe('-paid');
  });
});
