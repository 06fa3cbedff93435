/** INLINE_SECRET: obvious inline secrets are caught wherever they are; settings and prose are not secrets. */
import { describe, expect, it } from 'vitest';
import { compileTree, type Diagnostic } from '../../compiler/index.ts';
import { isSecretName } from '../../compiler/check/secrets.ts';

const source = { kind: 'folder', compilerVersion: 'test' } as const;
const API = { name: 'W', state: 'stopped', contextPaths: ['/w'], entrypoints: [{ type: 'http-get' }], endpoints: [{ type: 'mock' }] };

function compile(api: object, more: Record<string, object> = {}): Diagnostic[] {
  const files = [{ path: 'w/api.json', text: JSON.stringify(api, null, 2) }, ...Object.entries(more).map(([path, value]) => ({ path, text: JSON.stringify(value, null, 2) }))];
  return compileTree(files, { source }).diagnostics;
}
const codes = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.code} ${d.pointer}`);
const mock = (extra: object) => ({ ...API, endpoints: [{ type: 'mock', ...extra }] });

describe('INLINE_SECRET catches', () => {
  it.each([
    ['secretKey', { metadata: { secretKey: 'wJalrXUtnFEMI' } }, '/endpoints/0/metadata/secretKey'],
    ['awsSecretAccessKey', { metadata: { awsSecretAccessKey: 'wJalrXUtnFEMI' } }, '/endpoints/0/metadata/awsSecretAccessKey'],
    ['client_secret', { metadata: { client_secret: 's3cr3t' } }, '/endpoints/0/metadata/client_secret'],
    ['an AWS access key id under any name', { messageContent: 'id AKIAIOSFODNN7EXAMPLE here' }, '/endpoints/0/messageContent'],
    ['a GitHub token under any name', { metadata: { note: `ghp_${'a'.repeat(36)}` } }, '/endpoints/0/metadata/note'],
    ['a Stripe live key under any name', { metadata: { stripe: 'sk_live_51H8abcdefghijklmnop' } }, '/endpoints/0/metadata/stripe'],
    ['a URL with user:password@', { metadata: { upstream: 'https://admin:hunter2@example.com/x' } }, '/endpoints/0/metadata/upstream'],
    ['a URL with ?access_token=', { metadata: { upstream: 'https://example.com/x?page=2&access_token=abc123' } }, '/endpoints/0/metadata/upstream'],
    ['a URL with ?api-key=', { metadata: { upstream: 'https://example.com/x?api-key=abc123' } }, '/endpoints/0/metadata/upstream'],
  ])('%s', (_, extra, pointer) => {
    expect(codes(compile(mock(extra)))).toEqual([`INLINE_SECRET ${pointer}`]);
  });

  it('a jwks URL with a password, in a plan', () => {
    const plan = { type: 'jwt', name: 'J', status: 'published', signature: 'RS256', jwksUrl: 'https://admin:s3cret@idp.example.com/jwks' };
    const diagnostics = compile(API, { 'w/plans/p.json': plan });
    expect(codes(diagnostics)).toEqual(['INLINE_SECRET /jwksUrl']);
    expect(diagnostics[0].message).toMatch(/URL with a password/);
  });

  it('a webhook callbackUrl with user:password@ is reported once, with the webhook advice', () => {
    const diagnostics = compile(
      { ...API, entrypoints: [{ type: 'webhook' }] },
      { 'w/plans/p.json': { type: 'push', name: 'P', status: 'published' }, 'w/subscriptions/a.json': { plan: 'p', webhook: { callbackUrl: 'https://u:pw@hooks.example.com/' } } },
    );
    expect(codes(diagnostics)).toEqual(['INLINE_SECRET /webhook/callbackUrl']);
    expect(diagnostics[0].message).toMatch(/"auth": \{"type": "basic"/);
  });
});

describe('INLINE_SECRET stays quiet on', () => {
  it('$schema, descriptions that talk about secrets, references, and URLs without credentials', () => {
    const api = {
      $schema: '../../schemas/api.schema.json',
      ...API,
      description: 'Send your token in X-Api-Key; the password is rotated monthly. Docs: https://docs.example.com/auth?page=2',
      endpoints: [
        { type: 'mqtt', serverHost: 'broker.example.com', consumer: { topic: 't' }, security: { auth: { username: 'u', password: { env: 'MQTT_PASSWORD' } } } },
      ],
      flows: { subscribe: [{ policy: 'headers', remove: ['Authorization', 'X-Api-Key'] }] },
    };
    const plan = { $schema: '../../../schemas/plan.schema.json', type: 'api-key', name: 'Gold', description: 'API key plan: keep your apiKey secret', status: 'published', header: 'X-Api-Key' };
    expect(compile(api, { 'w/plans/gold.json': plan })).toEqual([]);
  });

  it('allowCredentials with a wrong type is a type error, not a secret', () => {
    const diagnostics = compile({ ...API, cors: { allowOrigins: ['http://a.example'], allowCredentials: 'true' } });
    expect(codes(diagnostics)).toEqual(['SCHEMA_TYPE /cors/allowCredentials']);
  });

  it('names that merely contain a secret word', () => {
    for (const name of ['allowCredentials', 'tokenType', 'keyless', 'key', 'header', 'queryParam', 'clientIdClaim', 'secretRef']) expect(isSecretName(name), name).toBe(false);
    for (const name of ['password', 'X-Api-Key', 'clientSecret', 'privateKey', 'Authorization', 'accessKey', 'signing_key', 'refresh-token']) expect(isSecretName(name), name).toBe(true);
  });
});
