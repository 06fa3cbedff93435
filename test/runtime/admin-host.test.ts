import { describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../../runtime/gateway.ts';
import { parseServerFlags } from '../../cli/options.ts';

describe('admin host', () => {
  it('binds the admin port to 127.0.0.1 even when the gateway port is exposed on 0.0.0.0', async () => {
    const gateway = await startGateway({ host: '0.0.0.0', port: 0, adminPort: 0 });
    try {
      expect(gateway.adminUrl).toBe(`http://127.0.0.1:${gateway.adminPort}`);
      // The admin port has no authentication: a non-loopback interface must not reach it by default.
      const res = await fetch(`${gateway.adminUrl}/healthz`);
      expect(res.status).toBe(200);
    } finally {
      await gateway.close();
    }
  });

  it('binds the admin port where --admin-host says, and --host alone leaves it on 127.0.0.1', () => {
    expect(parseServerFlags(['--host', '0.0.0.0'], []).server).toMatchObject({ host: '0.0.0.0', adminHost: '127.0.0.1' });
    expect(parseServerFlags(['--host', '0.0.0.0', '--admin-host', '0.0.0.0'], []).server.adminHost).toBe('0.0.0.0');
  });
});

describe('admin port and browsers', () => {
  it('refuses any request with an Origin header (cross-site POST resume, DNS rebinding) and answers those without', async () => {
    const gateway = await startGateway({ port: 0, adminPort: 0 });
    try {
      // A page on another site can POST text/plain without a preflight: the browser adds Origin.
      const csrf = await fetch(`${gateway.adminUrl}/subscriptions/orders/resume`, {
        method: 'POST', headers: { Origin: 'https://evil.example', 'Content-Type': 'text/plain' }, body: 'x',
      });
      expect(csrf.status).toBe(403);
      expect((await csrf.json()).code).toBe('ADMIN_ORIGIN_REFUSED');
      expect((await fetch(`${gateway.adminUrl}/status`, { headers: { Origin: 'http://rebound.example' } })).status).toBe(403);
      expect((await fetch(`${gateway.adminUrl}/subscriptions/orders/resume`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(`${gateway.adminUrl}/status`)).status).toBe(200);
    } finally {
      await gateway.close();
    }
  });
});
