/**
 * Policies end to end through the runtime: real gateway on port 0, real WebSocket and HTTP clients,
 * the built-in mock endpoint (its messageContent is JSON here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../runtime/gateway.ts';
import type { MockEndpointInstance } from '../../runtime/endpoints/mock/mock.ts';
import { scrape } from '../observability/prometheus.ts';
import { makeBundle } from '../support/bundles.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from '../support/harness.ts';

let gateway: Gateway;

const orderSchema = {
  type: 'object',
  required: ['kind', 'amount'],
  properties: { kind: { const: 'order' }, amount: { type: 'number', minimum: 0 } },
};

beforeAll(async () => {
  gateway = await gatewayWith(makeBundle({
    orders: {
      definition: {
        entrypoints: [{ type: 'http-get', messagesLimitDurationMs: 3000, headersInPayload: true }, { type: 'websocket' }],
        endpoints: [{ type: 'mock', messageInterval: 20, messageContent: '{"kind":"order","amount":5,"secret":"s"}', headers: { Region: 'eu' } }],
        flows: {
          publish: [
            { policy: 'max-size', maxBytes: 200 },
            { policy: 'json-validate', schema: orderSchema },
            { policy: 'transform', set: { 'via.gateway': 'sluice' } },
          ],
          subscribe: [
            { policy: 'message-filter', condition: '$.kind == "order" && headers.region == "eu" && number(id) % 2 == 0' },
            { policy: 'transform', remove: ['secret'] },
            { policy: 'headers', set: { 'X-Filtered': 'yes' } },
          ],
        },
      },
    },
  }));
});

afterAll(async () => {
  await gateway?.close();
});

/** Policy outcomes of the orders API as the gateway's /metrics shows them. */
async function outcomes(labels: Record<string, string>): Promise<number> {
  return (await scrape(gateway.adminUrl!)).value('sluice_policy_outcomes_total', { api: 'orders', ...labels });
}

function mock(): MockEndpointInstance {
  return gateway.routers.current!.match('/orders/')!.publishEndpoint as MockEndpointInstance;
}

describe('policies through the runtime', () => {
  it('websocket publish: json-validate refuses with a 400 error frame, max-size with 413; valid messages reach the endpoint transformed', async () => {
    const client = connect(wsUrl(gateway, '/orders/'));
    await within(client.opened, 5000, 'the WebSocket handshake');
    const errors = () => client.texts().map((t) => JSON.parse(t)).filter((frame) => frame.error);

    client.ws.send('{"kind":"order","amount":-3}');
    await waitFor(() => errors().length === 1, 5000, 'the json-validate error frame');
    expect(errors()[0].error).toEqual({ code: 'MESSAGE_INVALID', message: 'The message does not match the schema: /amount must be >= 0.' });

    client.ws.send(JSON.stringify({ kind: 'order', amount: 1, pad: 'x'.repeat(300) }));
    await waitFor(() => errors().length === 2, 5000, 'the max-size error frame');
    expect(errors()[1].error.code).toBe('PAYLOAD_TOO_LARGE');

    client.ws.send('{"kind":"order","amount":7}');
    await waitFor(() => mock().recorded().length === 1, 5000, 'the valid message at the mock endpoint');
    expect(JSON.parse(mock().recorded()[0].content.toString())).toEqual({ kind: 'order', amount: 7, via: { gateway: 'sluice' } });
    expect(client.ws.readyState).toBe(client.ws.OPEN); // a refused message does not end the connection
    client.ws.close(1000);
    await within(client.closed, 5000, 'the close');
    expect(await outcomes({ outcome: 'refused', direction: 'publish' })).toBe(2);
  });

  it('http-get subscribe: message-filter drops odd ids, transform and headers apply to the rest', async () => {
    const response = await fetch(`${gateway.url}/orders/?limit=3`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { items: { id: string; content: string; headers?: Record<string, string> }[] };
    expect(body.items.map((item) => item.id)).toEqual(['0', '2', '4']);
    for (const item of body.items) {
      expect(JSON.parse(item.content)).toEqual({ kind: 'order', amount: 5 });
      expect(item.headers).toEqual({ Region: 'eu', 'X-Filtered': 'yes' });
    }
    expect(await outcomes({ outcome: 'dropped', policy: 'message-filter', direction: 'subscribe' })).toBeGreaterThanOrEqual(2);
  });

  it('websocket subscribe: only filtered, transformed messages arrive', async () => {
    const client = connect(wsUrl(gateway, '/orders/'));
    await within(client.opened, 5000, 'the WebSocket handshake');
    await waitFor(() => client.messages.length >= 2, 5000, 'two subscribed messages');
    client.ws.close(1000);
    await within(client.closed, 5000, 'the close');
    for (const text of client.texts()) expect(JSON.parse(text)).toEqual({ kind: 'order', amount: 5 });
  });
});
