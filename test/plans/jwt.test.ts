import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JwtPlan, Subscription } from '../../schemas/types.ts';
import { createJwtPlan, MAX_JWKS_BYTES } from '../../runtime/plans/jwt.ts';
import { rejection, request } from './fixtures.ts';

const SECRET = 'a-test-signing-secret-of-32-bytes!';
const now = () => Math.floor(Date.now() / 1000);
const subscriptions: Record<string, Subscription> = {
  acme: { plan: 'partners', clientId: 'acme-app' },
  paused: { plan: 'partners', clientId: 'paused-app', status: 'paused' },
  ended: { plan: 'partners', clientId: 'ended-app', endingAt: '2001-01-01T00:00:00Z' },
  soon: { plan: 'partners', clientId: 'soon-app', endingAt: new Date(Date.now() + 3_600_000).toISOString() },
};
const hsConfig: JwtPlan = {
  type: 'jwt', name: 'Partners', status: 'published', signature: 'HS256', secret: { env: 'JWT_SECRET' },
  issuer: 'https://issuer.test', audience: 'orders-api',
};

function hsPlan(config: Partial<JwtPlan> = {}) {
  return createJwtPlan('partners', { ...hsConfig, ...config }, {
    apiId: 'orders', subscriptions,
    resolveSecret: (ref) => {
      expect(ref).toEqual({ env: 'JWT_SECRET' });
      return SECRET;
    },
  });
}

async function hs(claims: JWTPayload, options: { alg?: string; secret?: string; exp?: number | null; nbf?: number; iat?: number } = {}) {
  const jwt = new SignJWT({ iss: 'https://issuer.test', aud: 'orders-api', azp: 'acme-app', ...claims })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setIssuedAt(options.iat);
  if (options.exp !== null) jwt.setExpirationTime(options.exp ?? now() + 60);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}
const bearer = (token: string) => request({ authorization: `Bearer ${token}` });

describe('jwt plan, HS256 with a secret reference', () => {
  it('accepts a valid token from Authorization: Bearer or access_token, and expires the Caller at exp', async () => {
    const exp = now() + 120;
    const token = await hs({}, { exp });
    const plan = hsPlan();
    expect(plan.presents(bearer(token))).toBe(true);
    expect(await plan.authenticate(bearer(token))).toEqual({
      planKey: 'partners', planType: 'jwt', subscription: 'acme', rateKey: 'sub:acme', expiresAt: exp * 1000,
      clientId: 'acme-app', claims: expect.objectContaining({ azp: 'acme-app', exp }),
    });
    expect(await plan.authenticate(request({}, `access_token=${token}`))).toMatchObject({ subscription: 'acme' });
    expect(await plan.authenticate(request({ authorization: `bearer   ${token}  ` }))).toMatchObject({ subscription: 'acme' });
  });

  it('leaves other Authorization schemes to other plans', () => {
    expect(hsPlan().presents(request({ authorization: 'Basic dXNlcjpwYXNz' }))).toBe(false);
    expect(hsPlan().presents(request())).toBe(false);
  });

  it('maps every failure to its stable code', async () => {
    const plan = hsPlan();
    const cases: [string, () => Promise<unknown>, number, string][] = [
      ['missing', () => plan.authenticate(request()), 401, 'JWT_MISSING'],
      ['empty bearer', () => plan.authenticate(request({ authorization: 'Bearer' })), 401, 'JWT_MALFORMED'],
      ['not a jwt', () => plan.authenticate(bearer('not-a-jwt')), 401, 'JWT_MALFORMED'],
      ['garbage segments', () => plan.authenticate(bearer('aaa.bbb.ccc')), 401, 'JWT_MALFORMED'],
      ['huge', () => plan.authenticate(bearer(`${'a'.repeat(9000)}.b.c`)), 401, 'JWT_MALFORMED'],
      ['wrong secret', async () => plan.authenticate(bearer(await hs({}, { secret: 'another-secret-another-secret-xx' }))), 401, 'JWT_INVALID_SIGNATURE'],
      ['wrong alg', async () => plan.authenticate(bearer(await hs({}, { alg: 'HS512' }))), 401, 'JWT_INVALID_SIGNATURE'],
      ['expired', async () => plan.authenticate(bearer(await hs({}, { exp: now() - 10 }))), 401, 'JWT_EXPIRED'],
      ['not yet valid', async () => plan.authenticate(bearer(await hs({}, { nbf: now() + 60 }))), 401, 'JWT_NOT_YET_VALID'],
      ['no exp', async () => plan.authenticate(bearer(await hs({}, { exp: null }))), 401, 'JWT_EXP_MISSING'],
      ['issued in the future', async () => plan.authenticate(bearer(await hs({}, { iat: now() + 60 }))), 401, 'JWT_NOT_YET_VALID'],
      ['wrong audience', async () => plan.authenticate(bearer(await hs({ aud: 'billing-api' }))), 401, 'JWT_INVALID_AUDIENCE'],
      ['no audience', async () => plan.authenticate(bearer(await hs({ aud: undefined }))), 401, 'JWT_INVALID_AUDIENCE'],
      ['wrong issuer', async () => plan.authenticate(bearer(await hs({ iss: 'https://evil.test' }))), 401, 'JWT_INVALID_ISSUER'],
      ['unknown client', async () => plan.authenticate(bearer(await hs({ azp: 'stranger' }))), 401, 'JWT_UNKNOWN_CLIENT'],
      ['paused subscription', async () => plan.authenticate(bearer(await hs({ azp: 'paused-app' }))), 401, 'SUBSCRIPTION_NOT_ACTIVE'],
      ['ended subscription', async () => plan.authenticate(bearer(await hs({ azp: 'ended-app' }))), 401, 'SUBSCRIPTION_NOT_ACTIVE'],
    ];
    for (const [name, attempt, status, code] of cases) {
      expect({ name, ...(await rejection(attempt())) }).toMatchObject({ name, status, code });
    }
  });

  it('a forged token with alg none is refused', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: 'https://issuer.test', aud: 'orders-api', azp: 'acme-app', exp: now() + 60 })).toString('base64url');
    expect(await rejection(hsPlan().authenticate(bearer(`${header}.${payload}.`)))).toMatchObject({ status: 401 });
  });

  it('applies leewaySeconds to exp, nbf and iat and extends expiresAt by it', async () => {
    const exp = now() - 5;
    const caller = await hsPlan({ leewaySeconds: 30 }).authenticate(bearer(await hs({}, { exp })));
    expect(caller.expiresAt).toBe((exp + 30) * 1000);
    await expect(hsPlan({ leewaySeconds: 30 }).authenticate(bearer(await hs({}, { nbf: now() + 10 })))).resolves.toBeDefined();
    await expect(hsPlan({ leewaySeconds: 30 }).authenticate(bearer(await hs({}, { iat: now() + 10 })))).resolves.toBeDefined();
    // Beyond the skew: refused (margins of 30 s either side of the 30 s bound hold on a loaded machine).
    const plan = hsPlan({ leewaySeconds: 30 });
    expect(await rejection(plan.authenticate(bearer(await hs({}, { exp: now() - 60 }))))).toMatchObject({ status: 401, code: 'JWT_EXPIRED' });
    expect(await rejection(plan.authenticate(bearer(await hs({}, { nbf: now() + 60 }))))).toMatchObject({ status: 401, code: 'JWT_NOT_YET_VALID' });
    expect(await rejection(plan.authenticate(bearer(await hs({}, { iat: now() + 60 }))))).toMatchObject({ status: 401, code: 'JWT_NOT_YET_VALID' });
  });

  it('requireExp: false accepts tokens without exp (no expiry) and caps expiresAt at the subscription end', async () => {
    expect((await hsPlan({ requireExp: false }).authenticate(bearer(await hs({}, { exp: null })))).expiresAt).toBeUndefined();
    const caller = await hsPlan().authenticate(bearer(await hs({ azp: 'soon-app' }, { exp: now() + 86_400 })));
    expect(caller.expiresAt).toBe(Date.parse(subscriptions.soon!.endingAt!));
  });

  it('checks required scopes from scope or scp (403 JWT_SCOPE_MISSING)', async () => {
    const plan = hsPlan({ requiredScopes: ['orders:read', 'orders:write'] });
    await expect(plan.authenticate(bearer(await hs({ scope: 'orders:write openid orders:read' })))).resolves.toMatchObject({ subscription: 'acme' });
    await expect(plan.authenticate(bearer(await hs({ scp: ['orders:read', 'orders:write'] })))).resolves.toMatchObject({ subscription: 'acme' });
    expect(await rejection(plan.authenticate(bearer(await hs({ scope: 'orders:read' }))))).toMatchObject({ status: 403, code: 'JWT_SCOPE_MISSING' });
    expect(await rejection(plan.authenticate(bearer(await hs({}))))).toMatchObject({ status: 403, code: 'JWT_SCOPE_MISSING' });
  });

  it('takes the client id from clientIdClaim, else azp, else aud, else client_id', async () => {
    const noAudience = hsPlan({ audience: undefined });
    await expect(noAudience.authenticate(bearer(await hs({ azp: undefined, aud: 'acme-app' })))).resolves.toMatchObject({ subscription: 'acme' });
    await expect(noAudience.authenticate(bearer(await hs({ azp: undefined, aud: ['other', 'acme-app'] })))).resolves.toMatchObject({ subscription: 'acme' });
    await expect(noAudience.authenticate(bearer(await hs({ azp: undefined, aud: undefined, client_id: 'acme-app' })))).resolves.toMatchObject({ subscription: 'acme' });
    const custom = hsPlan({ clientIdClaim: 'app' });
    await expect(custom.authenticate(bearer(await hs({ azp: 'stranger', app: 'acme-app' })))).resolves.toMatchObject({ subscription: 'acme' });
    expect(await rejection(custom.authenticate(bearer(await hs({ azp: 'acme-app' }))))).toMatchObject({ code: 'JWT_UNKNOWN_CLIENT' });
  });

  it('refuses to build without a secret, key or JWKS URL', () => {
    const context = { apiId: 'orders', subscriptions, resolveSecret: () => SECRET };
    expect(() => createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'HS256' }, context)).toThrow(/needs "secret"/);
    expect(() => createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'RS256' }, context)).toThrow(/needs "publicKey" or "jwksUrl"/);
    expect(() => createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'RS256', publicKey: 'nope' }, context)).toThrow(/not a PEM/);
  });
});

describe('jwt plan, asymmetric keys', () => {
  let server: Server;
  let jwksUrl: string;
  let fetches = 0;
  let jwksAvailable = true;
  const keys: Record<string, Awaited<ReturnType<typeof generateKeyPair>>> = {};

  beforeAll(async () => {
    keys.rs = await generateKeyPair('RS256');
    keys.es = await generateKeyPair('ES256');
    keys.ps = await generateKeyPair('PS384');
    const jwk = { ...(await exportJWK(keys.es.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' };
    server = createServer((req, res) => {
      fetches += 1;
      if (!jwksAvailable) return void res.writeHead(500).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const sign = (alg: string, key: CryptoKey, kid?: string) =>
    new SignJWT({ azp: 'acme-app' }).setProtectedHeader({ alg, ...(kid ? { kid } : {}) }).setExpirationTime('1m').sign(key);
  const context = { apiId: 'orders', subscriptions, resolveSecret: () => '' };

  it('verifies RS256 and PS384 with a PEM public key, and refuses a key of the wrong family', async () => {
    const rs = createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'RS256', publicKey: await exportSPKI(keys.rs!.publicKey) }, context);
    await expect(rs.authenticate(bearer(await sign('RS256', keys.rs!.privateKey)))).resolves.toMatchObject({ subscription: 'acme' });
    const rs512 = await generateKeyPair('RS512');
    expect(await rejection(rs.authenticate(bearer(await sign('RS512', rs512.privateKey))))).toMatchObject({ code: 'JWT_INVALID_SIGNATURE' });
    const otherRs = await generateKeyPair('RS256');
    expect(await rejection(rs.authenticate(bearer(await sign('RS256', otherRs.privateKey))))).toMatchObject({ code: 'JWT_INVALID_SIGNATURE' });
    const ps = createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'PS384', publicKey: await exportSPKI(keys.ps!.publicKey) }, context);
    await expect(ps.authenticate(bearer(await sign('PS384', keys.ps!.privateKey)))).resolves.toMatchObject({ subscription: 'acme' });
    expect(() => createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'ES256', publicKey: 'x' }, context)).toThrow();
    const rsaPem = await exportSPKI(keys.rs!.publicKey);
    expect(() => createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'ES256', publicKey: rsaPem }, context)).toThrow(/needs ec/);
  });

  it('verifies ES256 through a JWKS URL, fetched once and cached', async () => {
    const plan = createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'ES256', jwksUrl }, context);
    fetches = 0;
    for (let i = 0; i < 3; i += 1) {
      await expect(plan.authenticate(bearer(await sign('ES256', keys.es!.privateKey, 'es-1')))).resolves.toMatchObject({ subscription: 'acme' });
    }
    expect(fetches).toBe(1);
    // A key the JWKS does not hold: invalid signature (a refetch happens at most once per cooldown).
    const stranger = await generateKeyPair('ES256');
    expect(await rejection(plan.authenticate(bearer(await sign('ES256', stranger.privateKey, 'es-2'))))).toMatchObject({ code: 'JWT_INVALID_SIGNATURE' });
    expect(await rejection(plan.authenticate(bearer(await sign('ES256', stranger.privateKey, 'es-3'))))).toMatchObject({ code: 'JWT_INVALID_SIGNATURE' });
    expect(fetches).toBe(1);
  });

  it('a JWKS that cannot be fetched is a 503, not a client error', async () => {
    jwksAvailable = false;
    try {
      const plan = createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'ES256', jwksUrl }, context);
      expect(await rejection(plan.authenticate(bearer(await sign('ES256', keys.es!.privateKey, 'es-1'))))).toMatchObject({ status: 503, code: 'JWKS_UNAVAILABLE' });
    } finally {
      jwksAvailable = true;
    }
  });

  it('a JWKS body larger than 256 KiB is refused like an unreachable one (503), declared or streamed', async () => {
    const jwk = { ...(await exportJWK(keys.es!.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' };
    // A valid JWKS padded past the bound: without the bound it would verify the token.
    const body = JSON.stringify({ keys: [jwk], padding: 'x'.repeat(MAX_JWKS_BYTES) });
    let bytesSent = 0;
    const huge = createServer((req, res) => {
      if (req.url === '/declared') return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
      // Streamed without a length: 64 KiB chunks, far more than the bound, until the client goes away.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(body.slice(0, -2));
      const chunk = ' '.repeat(64 * 1024);
      const pump = (): void => {
        while (!res.destroyed && bytesSent < 64 * 1024 * 1024) {
          bytesSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end('}');
      };
      pump();
    });
    await new Promise<void>((resolve) => huge.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(huge.address() as AddressInfo).port}`;
      for (const path of ['/declared', '/streamed']) {
        const plan = createJwtPlan('p', { type: 'jwt', name: 'p', signature: 'ES256', jwksUrl: `${base}${path}` }, context);
        expect({ path, ...(await rejection(plan.authenticate(bearer(await sign('ES256', keys.es!.privateKey, 'es-1'))))) })
          .toMatchObject({ path, status: 503, code: 'JWKS_UNAVAILABLE' });
      }
      expect(bytesSent).toBeLessThan(64 * 1024 * 1024);
    } finally {
      huge.closeAllConnections();
      await new Promise<void>((resolve) => huge.close(() => resolve()));
    }
  });
});
