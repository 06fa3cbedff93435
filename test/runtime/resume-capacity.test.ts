import { describe, expect, it } from 'vitest';
import { ResumeCapacity } from '../../runtime/subscribe/resume-capacity.ts';
import { GatewayError } from '../../core/errors.ts';

describe('ResumeCapacity', () => {
  it('refuses beyond the limit with RESUME_CAPACITY (503, 1013, Retry-After) and gives each slot back exactly once', () => {
    const capacity = new ResumeCapacity(2);
    const a = capacity.acquire(new AbortController().signal);
    const b = capacity.acquire(new AbortController().signal);
    let refused: unknown;
    try {
      capacity.acquire(new AbortController().signal);
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(GatewayError);
    expect(refused).toMatchObject({ code: 'RESUME_CAPACITY', status: 503, closeCode: 1013, headers: { 'Retry-After': '5' } });
    expect(capacity.refusal()?.code).toBe('RESUME_CAPACITY');
    a.release();
    a.release();
    expect(capacity.active).toBe(1);
    b.started();
    b.release();
    expect(capacity.active).toBe(0);
  });

  it('a slot never started comes back when its signal aborts; a started one only by release', () => {
    const capacity = new ResumeCapacity(5);
    const unstarted = new AbortController();
    capacity.acquire(unstarted.signal);
    const running = new AbortController();
    const slot = capacity.acquire(running.signal);
    slot.started();
    expect(capacity.active).toBe(2);
    unstarted.abort();
    running.abort();
    expect(capacity.active).toBe(1);
    slot.release();
    expect(capacity.active).toBe(0);
    capacity.acquire(AbortSignal.abort());
    expect(capacity.active).toBe(0);
  });
});
