/**
 * The compiler's capability checks for the nats endpoint: what a core-subject endpoint (no stream)
 * cannot serve (qos at-least-once, webhooks, maxReplay: NATS_STREAM_REQUIRED / QOS_UNSUPPORTED),
 * what a JetStream one can, subject syntax, one credential kind, and channel templates on subjects.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFolder, type Diagnostic } from '../../compiler/index.ts';

const KEYLESS = '{"type":"keyless","name":"Open","status":"published"}';
const PUSH = '{"type":"push","name":"Push","status":"published"}';
const nats = (fields: Record<string, unknown> = {}) => ({ type: 'nats', servers: ['nats://nats.internal:4222'], consumer: { subject: 'orders.>' }, producer: { subject: 'orders.created' }, ...fields });
const api = (fields: Record<string, unknown>) => JSON.stringify({
  name: 'Orders', state: 'started', lifecycle: 'published', contextPaths: ['/orders'],
  entrypoints: [{ type: 'sse', qos: 'at-least-once' }, { type: 'http-post' }], endpoints: [nats()], ...fields,
}, null, 2);

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-nats-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(json: string, plans: Record<string, string> = { open: KEYLESS }): void {
  mkdirSync(join(root, 'orders', 'plans'), { recursive: true });
  writeFileSync(join(root, 'orders', 'api.json'), json);
  for (const [key, plan] of Object.entries(plans)) writeFileSync(join(root, 'orders', 'plans', `${key}.json`), plan);
}
const codes = async () => (await compileFolder(root)).diagnostics.map((d: Diagnostic) => `${d.pointer} ${d.code}`);

describe('nats endpoint in the compiler', () => {
  it('a JetStream endpoint resumes: qos at-least-once and webhooks compile', async () => {
    write(api({ entrypoints: [{ type: 'sse', qos: 'at-least-once' }, { type: 'http-get', qos: 'at-least-once' }, { type: 'webhook' }], endpoints: [nats({ stream: 'ORDERS', consumer: { subject: 'orders.>', maxReplay: 1000 } })] }), { open: KEYLESS, push: PUSH });
    expect(await codes()).toEqual([]);
  });

  it('a core-subject endpoint cannot: qos at-least-once is QOS_UNSUPPORTED, a webhook and maxReplay are NATS_STREAM_REQUIRED', async () => {
    write(api({ entrypoints: [{ type: 'sse', qos: 'at-least-once' }, { type: 'webhook' }], endpoints: [nats({ consumer: { subject: 'orders.>', maxReplay: 10 } })] }), { open: KEYLESS, push: PUSH });
    const diagnostics = (await compileFolder(root)).diagnostics;
    expect(diagnostics.map((d) => `${d.pointer} ${d.code}`).sort()).toEqual([
      '/endpoints/0/consumer/maxReplay NATS_STREAM_REQUIRED',
      '/entrypoints/0/qos QOS_UNSUPPORTED',
      '/entrypoints/1/type NATS_STREAM_REQUIRED',
    ]);
    expect(diagnostics.find((d) => d.pointer === '/entrypoints/1/type')!.message).toContain('add "stream" to the nats endpoint');
  });

  it('refuses bad subjects and two credential kinds', async () => {
    write(api({
      entrypoints: [{ type: 'websocket' }],
      endpoints: [nats({ consumer: { subject: 'orders.>.eu' }, producer: { subject: 'orders..created' }, security: { token: { env: 'NATS_TOKEN' }, nkey: { env: 'NATS_NKEY' } } })],
    }));
    expect((await codes()).sort()).toEqual([
      '/endpoints/0/consumer/subject INVALID_SUBJECT',
      '/endpoints/0/producer/subject INVALID_SUBJECT',
      '/endpoints/0/security/nkey NATS_SECURITY_CONFLICT',
    ]);
  });

  it('maps channel parameters through consumer and producer subjects', async () => {
    write(api({
      contextPaths: ['/orders/{region}'],
      entrypoints: [{ type: 'websocket' }],
      endpoints: [nats({ consumer: { subject: 'orders.{region}.>' }, producer: { subject: 'orders.{region}.created' } })],
    }));
    expect(await codes()).toEqual([]);
  });

  it('keeps credentials out of the bundle: a plain-text password is refused by the schema', async () => {
    write(api({ entrypoints: [{ type: 'websocket' }], endpoints: [nats({ security: { auth: { username: 'sluice', password: 'hunter2' } } })] }));
    expect((await codes()).length).toBeGreaterThan(0);
  });
});
