import { afterEach, describe, expect, it, vi } from 'vitest';
import { Connections } from '../../runtime/connections.ts';
import { noMeters } from '../../runtime/metrics/telemetry.ts';

afterEach(() => vi.useRealTimers());

const DAY = 24 * 60 * 60 * 1000;

describe('connections', () => {
  it('ends a stream when its credential expires, even beyond the 24.8 days a single timer can wait', () => {
    vi.useFakeTimers();
    const connections = new Connections('a', noMeters);
    const connection = connections.open('websocket', { planKey: 'gold', planType: 'api-key', subscription: 'acme', rateKey: 'sub:acme', expiresAt: Date.now() + 30 * DAY });
    vi.advanceTimersByTime(25 * DAY);
    expect(connection.signal.aborted).toBe(false);
    vi.advanceTimersByTime(5 * DAY - 1);
    expect(connection.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(connection.signal.aborted).toBe(true);
    expect((connection.signal.reason as { code: string }).code).toBe('CREDENTIAL_EXPIRED');
    connections.release(connection);
  });

  it('clears the expiry timer when the connection is released', () => {
    vi.useFakeTimers();
    const connections = new Connections('a', noMeters);
    const connection = connections.open('websocket', { planKey: 'gold', planType: 'api-key', rateKey: 'sub:acme', expiresAt: Date.now() + 40 * DAY });
    vi.advanceTimersByTime(30 * DAY);
    connections.release(connection);
    expect(vi.getTimerCount()).toBe(0);
  });
});
