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

  it('is its own abort signal: listeners (functions or handleEvent objects) run once, in order, with the first reason; removed or late ones never', () => {
    const connections = new Connections('a', noMeters);
    const connection = connections.open('sse', { planKey: 'open', planType: 'keyless', rateKey: 'addr:x' });
    const calls: string[] = [];
    const removed = () => calls.push('removed');
    connection.addEventListener('abort', () => calls.push(`first:${(connection.reason as { code: string }).code}`));
    connection.addEventListener('abort', removed);
    connection.addEventListener('abort', { handleEvent: () => calls.push('object') });
    connection.addEventListener('abort', () => {
      throw new Error('a listener fails');
    });
    connection.addEventListener('abort', () => calls.push('after the failing one'));
    connection.removeEventListener('abort', removed);
    expect(connection.aborted).toBe(false);
    connection.abort({ code: 'SERVICE_RESTART' });
    connection.abort({ code: 'GATEWAY_STOPPING' });
    connection.addEventListener('abort', () => calls.push('late'));
    expect(calls).toEqual(['first:SERVICE_RESTART', 'object', 'after the failing one']);
    expect(connection.aborted).toBe(true);
    // An AbortSignal made after the abort is aborted with the same reason; one made before follows it.
    expect(connection.signal.aborted).toBe(true);
    expect((connection.signal.reason as { code: string }).code).toBe('SERVICE_RESTART');
    const other = connections.open('sse', { planKey: 'open', planType: 'keyless', rateKey: 'addr:y' });
    const signal = other.signal;
    expect(signal.aborted).toBe(false);
    other.abort({ code: 'CLIENT_GONE' });
    expect((signal.reason as { code: string }).code).toBe('CLIENT_GONE');
    connections.release(connection);
    connections.release(other);
  });
});
