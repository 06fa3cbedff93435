import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../core/errors.ts';
import { flow, msg } from './fixtures.ts';

describe('max-size', () => {
  it('publish: larger content is refused with 413 (WebSocket 1009), equal size passes', () => {
    const { run, counters } = flow('publish', { policy: 'max-size', maxBytes: 5 });
    expect(run(msg('12345'))).not.toBeNull();
    let error: unknown;
    try {
      run(msg('123456'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GatewayError);
    expect(error).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE', closeCode: 1009 });
    expect(counters.total('refused', { policy: 'max-size' })).toBe(1);
  });

  it('subscribe: larger content is dropped and counted', () => {
    const { run, counters } = flow('subscribe', { policy: 'max-size', maxBytes: 5 });
    expect(run(msg('€€'))).toBeNull(); // 6 bytes, 2 characters: bytes count
    expect(run(msg('abc'))).not.toBeNull();
    expect(counters.total('dropped', { policy: 'max-size', direction: 'subscribe' })).toBe(1);
  });

  it('a condition limits it to some messages', () => {
    const { run } = flow('subscribe', { policy: 'max-size', maxBytes: 3, condition: 'headers.kind == "small"' });
    expect(run(msg('123456', { kind: 'big' }))).not.toBeNull();
    expect(run(msg('123456', { kind: 'small' }))).toBeNull();
  });
});
