/**
 * The quickstart with its real defaults (mock at 1 message/s, http-get 5 s), compiled from
 * apis/qs-message-api by the compiler, as a new user tries it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import https from 'node:https';
import WebSocket from 'ws';
import { compileFolder } from '../../compiler/index.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from '../support/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-qs-'));
let bundle: unknown;
let gateway: Gateway;

beforeAll(async () => {
  cpSync('apis/qs-message-api', join(dir, 'apis', 'qs-message-api'), { recursive: true });
  const result = await compileFolder(join(dir, 'apis'));
  expect(result.diagnostics).toEqual([]);
  bundle = result.bundle;
  gateway = await gatewayWith(bundle);
});
afterAll(async () => {
  await gateway.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('quickstart with defaults', () => {
  it('a plain GET gets 200 and four "mock message" items after about 5 s', async () => {
    const started = Date.now();
    const res = await fetch(`${gateway.url}/qs-message-api`, { headers: { Accept: '*/*', 'User-Agent': 'curl/8' } });
    expect(res.status).toBe(200);
    const body = await res.json();
    const elapsed = Date.now() - started;
    expect(body.items).toEqual(['0', '1', '2', '3'].map((id) => ({ id, content: 'mock message' })));
    expect(body.pagination).toEqual({ nextCursor: '3' });
    expect(elapsed).toBeGreaterThanOrEqual(4900);
    expect(elapsed).toBeLessThan(6500);
  }, 15_000);

  it('a WebSocket client gets "mock message" once a second', async () => {
    const client = connect(wsUrl(gateway, '/qs-message-api'));
    await client.opened;
    const opened = Date.now();
    await waitFor(() => client.messages.length >= 2, 4000, 'two messages');
    expect(Date.now() - opened).toBeGreaterThanOrEqual(1900);
    expect(client.texts().slice(0, 2)).toEqual(['mock message', 'mock message']);
    client.ws.close();
  }, 10_000);
});

describe('TLS', () => {
  it('serves https:// and wss:// on the same port with --tls-cert/--tls-key PEM files', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const secure = await gatewayWith(bundle, { tls: { cert: readFileSync(cert), key: readFileSync(key) } });
    try {
      expect(secure.url).toMatch(/^https:\/\//);
      const ca = readFileSync(cert);
      const status = await new Promise<number>((resolve, reject) => {
        https.get(`${secure.url}/nope`, { ca }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      expect(status).toBe(404);
      const ws = new WebSocket(`${secure.url.replace('https', 'wss')}/qs-message-api`, { ca });
      const first = await within(new Promise<string>((resolve, reject) => {
        ws.once('message', (data) => resolve(String(data)));
        ws.once('error', reject);
      }), 3000, 'a message over wss');
      expect(first).toBe('mock message');
      ws.close();
    } finally {
      await secure.close();
    }
  }, 15_000);
});
