/**
 * Channels on MQTT against the suite's Mosquitto: a context path template `/sensors/{deviceId}`
 * mapped to `consumer.topic: <base>/readings/{deviceId}` (one `+` subscription upstream), each
 * client getting only its own device; a JWT plan binding deviceId to a claim (403 otherwise);
 * conditions reading `request.params` and `caller.claims`; publishing to the caller's topic.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith, connect, waitFor, HandshakeRefused, type Client } from '../support/harness.ts';
import { makeBundle } from '../support/bundles.ts';
import { mqttUrl } from '../support/brokers/brokers.ts';
import { mosquittoPub, mosquittoSub } from './clients.ts';

const SECRET = 'a-channels-signing-secret-of-32-bytes!';
let url: string;
let gateway: Gateway;
const base = `e2e/${randomUUID().slice(0, 6)}`;
const ws = (path: string, headers: Record<string, string> = {}): Client => connect(`${gateway.url.replace('http', 'ws')}${path}`, { headers });
const token = (claims: Record<string, unknown>) =>
  new SignJWT({ azp: 'device-app', ...claims }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
const real = (texts: string[]) => texts.filter((t) => !t.includes('warmup'));

beforeAll(async () => {
  process.env.CHANNELS_JWT_SECRET = SECRET;
  url = await mqttUrl();
  const { hostname, port } = new URL(url);
  const mqtt = (topic: string) => ({ type: 'mqtt', serverHost: hostname, serverPort: Number(port), consumer: { topic: `${base}/${topic}/{deviceId}`, qos: 1 }, producer: { topic: `${base}/commands/{deviceId}`, qos: 1 } });
  gateway = await gatewayWith(makeBundle({
    sensors: {
      definition: {
        contextPaths: ['/sensors/{deviceId}'],
        parameters: { deviceId: { description: 'The device', pattern: '[a-z0-9-]+' } },
        entrypoints: [{ type: 'websocket' }, { type: 'http-post' }],
        endpoints: [mqtt('readings')],
        flows: { subscribe: [{ policy: 'message-filter', condition: '!exists($.room) || $.room == request.params.deviceId' }] },
      } as never,
    },
    devices: {
      definition: {
        contextPaths: ['/devices/{deviceId}'],
        entrypoints: [{ type: 'websocket' }],
        endpoints: [mqtt('device-readings')],
        flows: { subscribe: [{ policy: 'message-filter', condition: '!startsWith(content, "premium") || caller.claims.tier == "gold"' }] },
      } as never,
      plans: { devices: { type: 'jwt', name: 'Devices', status: 'published', signature: 'HS256', secret: { env: 'CHANNELS_JWT_SECRET' }, bind: { deviceId: 'claims.device' } } as never },
      subscriptions: { app: { plan: 'devices', clientId: 'device-app' } as never },
    },
  }));
});

afterAll(async () => {
  await gateway?.close();
  delete process.env.CHANNELS_JWT_SECRET;
});

async function warmUp(topics: string[], ready: () => boolean): Promise<void> {
  for (let i = 0; i < 40; i++) {
    for (const topic of topics) await mosquittoPub(url, topic, `{"v":"warmup-${i}"}`);
    try {
      await waitFor(ready, 500, 'warm-up');
      return;
    } catch {
      // not yet
    }
  }
  throw new Error('the clients never received a warm-up message');
}

describe('channels on MQTT', () => {
  it('WebSocket clients on /sensors/kitchen and /sensors/garage each get only their own topic (one upstream subscription)', async () => {
    const kitchen = ws('/sensors/kitchen');
    const garage = ws('/sensors/garage');
    try {
      await Promise.all([kitchen.opened, garage.opened]);
      await warmUp([`${base}/readings/kitchen`, `${base}/readings/garage`], () => kitchen.texts().length > 0 && garage.texts().length > 0);
      for (const [device, value] of [['kitchen', 'k1'], ['garage', 'g1'], ['kitchen', 'k2'], ['garage', 'g2'], ['cellar', 'c1']]) {
        await mosquittoPub(url, `${base}/readings/${device}`, `{"v":"${value}"}`);
      }
      // A condition reading request.params: a reading for another room is dropped on this channel.
      await mosquittoPub(url, `${base}/readings/kitchen`, '{"v":"k3","room":"garage"}');
      await mosquittoPub(url, `${base}/readings/kitchen`, '{"v":"k4","room":"kitchen"}');
      await waitFor(() => real(kitchen.texts()).length >= 3 && real(garage.texts()).length >= 2, 10_000, 'channel readings');
      expect(real(kitchen.texts())).toEqual(['{"v":"k1"}', '{"v":"k2"}', '{"v":"k4","room":"kitchen"}']);
      expect(real(garage.texts())).toEqual(['{"v":"g1"}', '{"v":"g2"}']);
      const exchange = gateway.routers.current!.exchanges.get('sensors')!;
      expect(exchange.fanout!.upstreamSubscriptions).toBe(1);
    } finally {
      kitchen.ws.close();
      garage.ws.close();
    }
  });

  it('refuses a parameter MQTT cannot carry or its pattern refuses with 400 INVALID_CHANNEL', async () => {
    for (const path of ['/sensors/a%2Bb', '/sensors/a%23', '/sensors/a%2Fb', '/sensors/', '/sensors/UPPER']) {
      const response = await fetch(`${gateway.url}${path}`, { method: 'POST', body: 'x' });
      expect(response.status, path).toBe(400);
      expect((await response.json()).code ?? '', path).toContain('INVALID_CHANNEL');
    }
  });

  it('HTTP POST on a channel publishes to the channel\'s producer topic', async () => {
    const sub = await mosquittoSub(url, `${base}/commands/kitchen`, 1);
    const posted = await fetch(`${gateway.url}/sensors/kitchen`, { method: 'POST', body: '{"cmd":"calibrate"}' });
    expect(posted.status).toBe(202);
    expect(await sub.messages).toEqual(['{"cmd":"calibrate"}']);
  });

  it('a plan binding deviceId to a claim: its own channel opens, another device\'s is 403 CHANNEL_FORBIDDEN; conditions see caller.claims', async () => {
    const refused = ws('/devices/garage', { authorization: `Bearer ${await token({ device: 'kitchen' })}` });
    const error = await refused.opened.then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(HandshakeRefused);
    expect((error as HandshakeRefused).status).toBe(403);
    expect((error as HandshakeRefused).body).toContain('CHANNEL_FORBIDDEN');
    const gold = ws('/devices/kitchen', { authorization: `Bearer ${await token({ device: 'kitchen', tier: 'gold' })}` });
    const basic = ws('/devices/kitchen', { authorization: `Bearer ${await token({ device: 'kitchen' })}` });
    try {
      await Promise.all([gold.opened, basic.opened]);
      await warmUp([`${base}/device-readings/kitchen`], () => gold.texts().length > 0 && basic.texts().length > 0);
      for (const text of ['hello', 'premium forecast', 'bye']) await mosquittoPub(url, `${base}/device-readings/kitchen`, text);
      await waitFor(() => real(gold.texts()).length >= 3 && real(basic.texts()).length >= 2, 10_000, 'device readings');
      // The condition reads caller.claims: evaluated per client, the premium reading reaches the gold caller only.
      expect(real(gold.texts())).toEqual(['hello', 'premium forecast', 'bye']);
      expect(real(basic.texts())).toEqual(['hello', 'bye']);
    } finally {
      gold.ws.close();
      basic.ws.close();
    }
  });
});
