/**
 * The nats endpoint's connection security on dedicated nats-servers: TLS with a CA generated here
 * (openssl, temp dir) plus token auth, and NKey auth from a config file; every secret is a secret
 * reference ({"env": NAME}). A CA that did not sign the server's certificate, a wrong token or an
 * unknown NKey: unhealthy with the reason, publish 503, and no secret in health, errors or logs
 * (captured at debug level). Creds (JWT) auth needs an operator setup and is not covered here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nkeys, nkeyAuthenticator } from '@nats-io/transport-node';
import { createNatsEndpoint } from '../../runtime/endpoints/nats/nats.ts';
import type { Endpoint } from '../../runtime/endpoints/endpoint.ts';
import type { NatsEndpoint } from '../../schemas/types.ts';
import { GatewayError } from '../../core/errors.ts';
import { LOG_OPTIONS, setLogLevel, setLogOutput } from '../../runtime/log.ts';
import { startNats, type NatsBroker } from '../support/brokers/nats-broker.ts';
import { collect, eventually, texts } from '../contract/endpoint-suite.ts';

const TOKEN = 'tok-7f3c9a1e5b';
const WRONG_TOKEN = 'tok-wrong-0d2e4f';
const user = nkeys.createUser();
const stranger = nkeys.createUser();
const SEED = new TextDecoder().decode(user.getSeed());
const STRANGER_SEED = new TextDecoder().decode(stranger.getSeed());
const secrets: Record<string, string> = { NATS_TOKEN: TOKEN, NATS_WRONG_TOKEN: WRONG_TOKEN, NATS_SEED: SEED, NATS_STRANGER_SEED: STRANGER_SEED };
const SECRET_VALUES = Object.values(secrets);

const logs: string[] = [];
const cleanup: Array<() => Promise<void>> = [];
let pem: { ca: string; wrongCa: string; cert: string; key: string };
let tlsBroker: NatsBroker;
let nkeyBroker: NatsBroker;

beforeAll(async () => {
  setLogLevel('debug');
  setLogOutput((line) => void logs.push(line));
  const dir = mkdtempSync(join(tmpdir(), 'sluice-nats-tls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Sluice test CA');
  ssl('req', '-x509', ...ec, '-keyout', 'other.key', '-out', 'other.pem', '-days', '1', '-subj', '/CN=Another CA');
  ssl('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  pem = { ca: read('ca.pem'), wrongCa: read('other.pem'), cert: read('server.pem'), key: read('server.key') };
  rmSync(dir, { recursive: true, force: true });
  [tlsBroker, nkeyBroker] = await Promise.all([
    startNats(undefined, undefined, { tls: { cert: pem.cert, key: pem.key, ca: pem.ca }, token: TOKEN }),
    startNats(undefined, undefined, {
      config: `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }\n`,
      connect: { authenticator: nkeyAuthenticator(user.getSeed()) },
    }),
  ]);
  cleanup.push(() => tlsBroker.close(), () => nkeyBroker.close());
}, 60_000);

afterAll(async () => {
  for (const release of cleanup.reverse()) await release().catch(() => {});
  setLogOutput((line) => void process.stdout.write(line));
  setLogLevel(String(LOG_OPTIONS.level));
});

const context = { apiId: 'secure', instanceId: 'test', resolveSecret: (ref: { env?: string }) => secrets[ref.env ?? ''] ?? 'unset' };
function endpointOn(broker: NatsBroker, security: NatsEndpoint['security']): Endpoint {
  const endpoint = createNatsEndpoint({ type: 'nats', servers: [broker.url], consumer: { subject: 'secure.>' }, producer: { subject: 'secure.in' }, security }, context as never);
  cleanup.push(() => endpoint.stop());
  return endpoint;
}

async function roundTrip(endpoint: Endpoint): Promise<void> {
  await endpoint.start();
  expect(endpoint.health()).toEqual({ healthy: true });
  const abort = new AbortController();
  const sub = collect(endpoint.subscribe({ signal: abort.signal }));
  try {
    await eventually(async () => {
      await endpoint.publish({ content: Buffer.from('secret-free'), headers: {}, metadata: {} });
      await sub.until(() => sub.messages.length > 0, 500, 'round trip');
    }, 10_000);
    expect(texts(sub.messages)).toContain('secret-free');
  } finally {
    abort.abort();
  }
}

async function refused(endpoint: Endpoint, reason: RegExp): Promise<string> {
  await endpoint.start();
  const health = endpoint.health();
  expect(health.healthy).toBe(false);
  expect(health.detail).toMatch(reason);
  const error = await endpoint.publish({ content: Buffer.from('x'), headers: {}, metadata: {} }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GatewayError);
  expect((error as GatewayError).status).toBe(503);
  return `${health.detail} ${(error as Error).message}`;
}

const expectNoSecret = (text: string) => {
  for (const secret of SECRET_VALUES) expect(text).not.toContain(secret);
};

describe('nats endpoint security', () => {
  it('TLS trusting the generated CA, token from a secret reference: connected over TLS, messages flow', { timeout: 30_000 }, async () => {
    await roundTrip(endpointOn(tlsBroker, { tls: { enabled: true, ca: pem.ca }, token: { env: 'NATS_TOKEN' } }));
    // The server's own listing: Sluice's connection is TLS.
    const connz = (await (await fetch(`${tlsBroker.monitor}/connz`)).json()) as { connections: Array<{ name?: string; tls_version?: string }> };
    expect(connz.connections.find((c) => c.name === 'sluice-secure-test')?.tls_version).toMatch(/1\.[23]/);
  });

  it('a CA that did not sign the server certificate: unhealthy with the TLS reason, 503', { timeout: 30_000 }, async () => {
    const text = await refused(endpointOn(tlsBroker, { tls: { enabled: true, ca: pem.wrongCa }, token: { env: 'NATS_TOKEN' } }), /certificate/i);
    expectNoSecret(text);
  });

  it('a wrong token: unhealthy with the server\'s refusal, 503, the token nowhere', { timeout: 30_000 }, async () => {
    const text = await refused(endpointOn(tlsBroker, { tls: { enabled: true, ca: pem.ca }, token: { env: 'NATS_WRONG_TOKEN' } }), /authoriz/i);
    expectNoSecret(text);
  });

  it('NKey seed from a secret reference (server config lists the public key): messages flow', { timeout: 30_000 }, async () => {
    await roundTrip(endpointOn(nkeyBroker, { nkey: { env: 'NATS_SEED' } }));
  });

  it('an NKey the server does not know: unhealthy, 503, no seed anywhere', { timeout: 30_000 }, async () => {
    const text = await refused(endpointOn(nkeyBroker, { nkey: { env: 'NATS_STRANGER_SEED' } }), /authoriz/i);
    expectNoSecret(text);
  });

  it('no secret in any log line (debug level, every test above)', () => {
    expect(logs.length).toBeGreaterThan(0);
    expectNoSecret(logs.join(''));
  });
});
