import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import type { MockEndpointInstance } from '../../runtime/endpoints/mock.ts';
import { extraEndpointFactories } from '../../runtime/endpoints/registry.ts';
import { makeBundle } from './bundles.ts';
import { countingFactory, kafkaConfig } from './counting-endpoint.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from './harness.ts';

const counting = countingFactory();
extraEndpointFactories.set('kafka', counting.factory);

let gateway: Gateway;

beforeAll(async () => {
  gateway = await gatewayWith(makeBundle({
    both: { definition: { entrypoints: [{ type: 'websocket', maxFrameBytes: 1024 }], endpoints: [{ type: 'mock', messageInterval: 20 }] } },
    counted: { definition: { entrypoints: [{ type: 'websocket' }], endpoints: [{ type: 'mock', messageInterval: 5, messageCount: 3 }] } },
    'sub-only': { definition: { entrypoints: [{ type: 'websocket', publisher: false }], endpoints: [{ type: 'mock', messageInterval: 20 }] } },
    'pub-only': { definition: { entrypoints: [{ type: 'websocket', subscriber: false }], endpoints: [{ type: 'mock', messageInterval: 5 }] } },
    broker: { definition: { entrypoints: [{ type: 'websocket', pingIntervalMs: 1000 }], endpoints: [kafkaConfig as never] } },
  }));
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
});
