import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import type { Gateway } from '../../runtime/gateway.ts';
import type { MockEndpointInstance } from '../../runtime/endpoints/mock/mock.ts';
import { registryWith } from '../support/registry.ts';
import { makeBundle } from '../support/bundles.ts';
import { countingFactory, kafkaConfig } from './counting-endpoint.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from '../support/harness.ts';
import { captureRequestLog } from './request-log.ts';

const counting = countingFactory();
const registry = registryWith({ kafka: counting.factory });

let gateway: Gateway;

beforeAll(async () => {
  gateway = await gatewayWith(makeBundle({
    both: { definition: { entrypoints: [{ type: 'websocket', maxFrameBytes: 1024 }], endpoints: [{ type: 'mock', messageInterval: 20 }] } },
    counted: { definition: { entrypoints: [{ type: 'websocket' }], endpoints: [{ type: 'mock', messageInterval: 5, messageCount: 3 }] } },
    'sub-only': { definition: { entrypoints: [{ type: 'websocket', publisher: false }], endpoints: [{ type: 'mock', messageInterval: 20 }] } },
    'pub-only': { definition: { entrypoints: [{ type: 'websocket', subscriber: false }], endpoints: [{ type: 'mock', messageInterval: 5 }] } },
    'pub-small': { definition: { entrypoints: [{ type: 'websocket', subscriber: false, maxPublishInFlightBytes: 1024 }], endpoints: [{ type: 'mock', messageInterval: 5 }] } },
    broker: { definition: { entrypoints: [{ type: 'websocket', pingIntervalMs: 1000 }], endpoints: [kafkaConfig as never] } },
  }), { registry });
});
afterAll(() => gateway.close());

const mockOf = (api: string) => (gateway.routers.current!.exchanges.get(api)!.publishEndpoint as MockEndpointInstance);

describe('websocket', () => {
  it('sends one text frame per message', async () => {
    const client = connect(wsUrl(gateway, '/both'));
    await waitFor(() => client.messages.length >= 3, 3000, 'three frames');
    expect(client.texts().slice(0, 3)).toEqual(['mock message', 'mock message', 'mock message']);
    expect(client.messages[0]!.binary).toBe(false);
    client.ws.close(1000);
    expect((await client.closed).code).toBe(1000);
  });

  it('publishes each inbound frame through the exchange to the endpoint', async () => {
    const client = connect(wsUrl(gateway, '/pub-only'));
    await client.opened;
    client.ws.send('hello');
    client.ws.send(Buffer.from([1, 2, 3]));
    await waitFor(() => mockOf('pub-only').recorded().length === 2, 2000, 'two recorded messages');
    const [text, binary] = mockOf('pub-only').recorded();
    expect(text!.content.toString()).toBe('hello');
    expect([...binary!.content]).toEqual([1, 2, 3]);
    // subscriber: false -> nothing is delivered.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(client.messages).toHaveLength(0);
    client.ws.close();
  });

  it('publishes frames larger than maxPublishInFlightBytes one at a time, all of them, in order', async () => {
    const client = connect(wsUrl(gateway, '/pub-small'));
    await client.opened;
    // Each frame alone reaches the bound (reading pauses), and reading resumes once it is published.
    const frames = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(4000)}`);
    for (const frame of frames) client.ws.send(frame);
    await waitFor(() => mockOf('pub-small').recorded().length === frames.length, 5000, `${frames.length} recorded messages`);
    expect(mockOf('pub-small').recorded().map((m) => m.content.toString())).toEqual(frames);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    client.ws.close();
  });

  it('ignores inbound frames when publisher is false', async () => {
    const client = connect(wsUrl(gateway, '/sub-only'));
    await client.opened;
    client.ws.send('ignored');
    await waitFor(() => client.messages.length >= 1, 2000, 'a frame');
    expect(mockOf('sub-only').recorded()).toHaveLength(0);
    client.ws.close();
  });

  it('closes 1009 on a frame over maxFrameBytes', async () => {
    const client = connect(wsUrl(gateway, '/both'));
    await client.opened;
    client.ws.send('x'.repeat(2000));
    expect((await within(client.closed, 2000, 'the close')).code).toBe(1009);
  });

  it('closes 1000 when the stream ends (messageCount)', async () => {
    const client = connect(wsUrl(gateway, '/counted'));
    const closed = await within(client.closed, 2000, 'the close');
    expect(closed.code).toBe(1000);
    expect(client.texts()).toHaveLength(3);
  });

  it('resumes after ?cursor=', async () => {
    const client = connect(wsUrl(gateway, '/counted?cursor=0'));
    await within(client.closed, 2000, 'the close');
    expect(client.messages).toHaveLength(2);
  });

  it('closes 1008 for a cursor the endpoint refuses', async () => {
    const client = connect(wsUrl(gateway, '/counted?cursor=nope'));
    expect((await within(client.closed, 2000, 'the close')).code).toBe(1008);
  });

  it('sends binary frames for content that is not UTF-8, text frames otherwise', async () => {
    const client = connect(wsUrl(gateway, '/broker'));
    await client.opened;
    const endpoint = counting.built.at(-1)!;
    await waitFor(() => endpoint.activeSubscriptions === 1, 2000, 'the upstream subscription');
    endpoint.emit('héllo');
    endpoint.emit(Buffer.from([0xc3, 0x28]));
    await waitFor(() => client.messages.length === 2, 2000, 'two frames');
    expect(client.messages[0]).toMatchObject({ binary: false });
    expect(client.messages[0]!.data.toString()).toBe('héllo');
    expect(client.messages[1]!.binary).toBe(true);
    expect([...client.messages[1]!.data]).toEqual([0xc3, 0x28]);
    client.ws.close();
    await waitFor(() => endpoint.activeSubscriptions === 0, 2000, 'the upstream to stop with the last client');
  });

  it('closes 1011 when the endpoint fails', async () => {
    const client = connect(wsUrl(gateway, '/broker'));
    await client.opened;
    const endpoint = counting.built.at(-1)!;
    await waitFor(() => endpoint.activeSubscriptions === 1, 2000, 'the upstream subscription');
    endpoint.fail(new Error('broker gone'));
    expect((await within(client.closed, 2000, 'the close')).code).toBe(1011);
  });

  it('answers pings, and terminates a client that stops answering them', async () => {
    const client = connect(wsUrl(gateway, '/broker'), { autoPong: false });
    await client.opened;
    let pings = 0;
    client.ws.on('ping', () => pings++);
    const closed = await within(client.closed, 6000, 'the keepalive to cut the client');
    expect(pings).toBeGreaterThanOrEqual(2);
    expect(closed.code).toBe(1006);
  }, 10_000);

  it('logs the close code it sent for a frame over maxFrameBytes (1009), not 1006', async () => {
    const capture = captureRequestLog();
    try {
      const client = connect(wsUrl(gateway, '/both'), { headers: { 'X-Request-Id': 'qa-oversize-frame' } });
      await client.opened;
      client.ws.send('x'.repeat(2000));
      expect((await within(client.closed, 2000, 'the close')).code).toBe(1009);
      await waitFor(() => capture.lines.some((l) => l.requestId === 'qa-oversize-frame'), 2000, 'the request log line');
      expect(capture.lines.find((l) => l.requestId === 'qa-oversize-frame')).toMatchObject({ status: 101, closeCode: 1009 });
    } finally {
      capture.stop();
    }
  });

  it('answers an invalid handshake (bad Sec-WebSocket-Key or version) 400 with a code, logs 400 and counts no connection', async () => {
    const capture = captureRequestLog();
    try {
      const answers: string[] = [];
      for (const [id, headers] of [
        ['qa-bad-key', 'Sec-WebSocket-Key: bad\r\nSec-WebSocket-Version: 13'],
        ['qa-bad-version', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 99'],
      ]) {
        answers.push(await new Promise<string>((resolve, reject) => {
          const socket = net.connect(gateway.port, '127.0.0.1', () => socket.write(
            `GET /both HTTP/1.1\r\nHost: x\r\nX-Request-Id: ${id}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}\r\n\r\n`,
          ));
          let answer = '';
          socket.on('data', (chunk) => (answer += chunk));
          socket.on('close', () => resolve(answer));
          socket.on('error', reject);
          setTimeout(() => socket.destroy(), 2000);
        }));
      }
      for (const answer of answers) {
        expect(answer).toMatch(/^HTTP\/1\.1 400 /);
        expect(answer).toContain('"code":"WEBSOCKET_HANDSHAKE_INVALID"');
      }
      expect(answers[1]).toMatch(/Sec-WebSocket-Version: 13/i);
      await waitFor(() => capture.lines.filter((l) => String(l.requestId).startsWith('qa-bad-')).length === 2, 2000, 'two request log lines');
      for (const id of ['qa-bad-key', 'qa-bad-version']) {
        expect(capture.lines.find((l) => l.requestId === id)).toMatchObject({ status: 400, code: 'WEBSOCKET_HANDSHAKE_INVALID' });
      }
      expect(gateway.routers.current!.exchanges.get('both')!.connections.size).toBe(0);
    } finally {
      capture.stop();
    }
  });
});
