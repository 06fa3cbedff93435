/**
 * RabbitMQ connection security and refusals on a dedicated broker with an amqps listener
 * (a throwaway self-signed certificate) and a user of its own: the endpoint connects over TLS
 * trusting that certificate, with the password from a secret reference (env); a wrong password
 * shows in /readyz and POST answers 503; an exchange that does not exist is 502 BROKER_REFUSED on
 * POST and SUBSCRIPTION_REFUSED on a stream.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import amqp from 'amqplib';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { startRabbit, type RabbitBroker } from '../support/brokers/rabbitmq-broker.ts';
import { openSse } from '../contract/sse-client.ts';

let broker: RabbitBroker;
let gateway: Gateway;
let cert: string;
const PASSWORD_ENV = 'SLUICE_TEST_RABBITMQ_PASSWORD';
const WRONG_ENV = 'SLUICE_TEST_RABBITMQ_WRONG_PASSWORD';

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-rabbitmq-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
  broker = await startRabbit({ tls: { cert, key: readFileSync(join(dir, 'key.pem'), 'utf8') } });
  rmSync(dir, { recursive: true, force: true });
  await broker.ctl('add_user', 'sluice', 'correct-horse');
  await broker.ctl('set_permissions', '-p', '/', 'sluice', '.*', '.*', '.*');
  const admin = await amqp.connect(broker.url);
  const channel = await admin.createChannel();
  await channel.assertExchange('secure', 'topic', { durable: false });
  await channel.assertQueue('secure-audit', { durable: false });
  await channel.bindQueue('secure-audit', 'secure', '#');
  await admin.close();
  process.env[PASSWORD_ENV] = 'correct-horse';
  process.env[WRONG_ENV] = 'battery-staple';
  const endpoint = (fields: Record<string, unknown>) => ({ definition: { entrypoints: [{ type: 'sse' }, { type: 'http-post' }], endpoints: [{ type: 'rabbitmq', serverHost: '127.0.0.1', ...fields }] } as never });
  const tls = { tlsPort: broker.tlsPort, ssl: { enabled: true, ca: cert } };
  gateway = await gatewayWith(makeBundle({
    secured: endpoint({ serverPort: tls.tlsPort, consumer: { exchange: 'secure' }, producer: { exchange: 'secure', routingKey: 'in' }, security: { ssl: tls.ssl, auth: { username: 'sluice', password: { env: PASSWORD_ENV } } } }),
    wrong: endpoint({ serverPort: broker.port, producer: { exchange: 'secure' }, security: { auth: { username: 'sluice', password: { env: WRONG_ENV } } } }),
    missing: endpoint({ serverPort: broker.port, consumer: { exchange: 'no-such-exchange' }, producer: { exchange: 'no-such-exchange' } }),
  }));
}, 120_000);

afterAll(async () => {
  await gateway?.close();
  await broker?.close();
  delete process.env[PASSWORD_ENV];
  delete process.env[WRONG_ENV];
});

it('amqps with a trusted CA and a password from a secret reference: POST is confirmed and reaches the queue', async () => {
  const res = await fetch(`${gateway.url}/secured/`, { method: 'POST', body: 'over tls' });
  expect(res.status).toBe(202);
  const admin = await amqp.connect(broker.url);
  try {
    const channel = await admin.createChannel();
    const got = await channel.get('secure-audit', { noAck: true });
    expect(got && got.content.toString()).toBe('over tls');
  } finally {
    await admin.close();
  }
  // The broker's own listing: the connection is TLS and authenticated as the configured user.
  const connections = await broker.ctl('list_connections', 'user', 'ssl', 'client_properties');
  expect(connections).toMatch(/sluice\s+true/);
});

it('a wrong password: /readyz names the API with the broker\'s refusal, POST answers 503', async () => {
  const res = await fetch(`${gateway.url}/wrong/`, { method: 'POST', body: 'x' });
  expect(res.status).toBe(503);
  expect(await res.json()).toMatchObject({ code: 'ENDPOINT_UNAVAILABLE' });
  const ready = await fetch(`${gateway.adminUrl}/readyz?strict=1`);
  expect(ready.status).toBe(503);
  const body = await ready.text();
  expect(body).toContain('wrong');
  expect(body).toMatch(/ACCESS_REFUSED|403/);
  expect(body).not.toContain('battery-staple');
});

it('an exchange that does not exist: POST is 502 BROKER_REFUSED, a stream ends with SUBSCRIPTION_REFUSED', async () => {
  const res = await fetch(`${gateway.url}/missing/`, { method: 'POST', body: 'x' });
  expect(res.status).toBe(502);
  expect(await res.json()).toMatchObject({ code: 'BROKER_REFUSED', message: expect.stringContaining('no-such-exchange') });
  const sse = await openSse(`${gateway.url}/missing/`);
  try {
    await sse.until((s) => s.events.some((e) => e.event === 'error'), 10_000, 'SSE error');
    expect(JSON.parse(sse.events.find((e) => e.event === 'error')!.data)).toMatchObject({ code: 'SUBSCRIPTION_REFUSED' });
  } finally {
    sse.close();
  }
  // The API keeps publishing once the channel error is behind it: a second POST is refused the same way, not 503.
  expect((await fetch(`${gateway.url}/missing/`, { method: 'POST', body: 'y' })).status).toBe(502);
});
