/**
 * Channels in the runtime, without brokers: the router's template matching, the fanout's
 * per-client channel filter (one Delivery shared by a channel's clients), per-caller flows, and which
 * conditions count as caller-dependent.
 */
import { describe, expect, it } from 'vitest';
import { compileParameterRules, fitsTemplate, matchTemplate, parameterProblem, parseTemplate } from '../../core/channel.ts';
import { everyChannelPattern, topicTemplates } from '../../runtime/endpoints/kafka/channel.ts';
import { re2RegExp } from '../../core/regex.ts';
import { compileFlow } from '../../core/policies/flow.ts';
import { expressionUsesCaller } from '../../core/policies/expression.ts';
import { message, type FlowContext, type Message } from '../../core/message.ts';
import { Fanout } from '../../runtime/subscribe/fanout.ts';
import type { Delivery } from '../../runtime/subscribe/delivery.ts';
import type { Endpoint } from '../../runtime/endpoints/endpoint.ts';
import { Telemetry } from '../../runtime/metrics/telemetry.ts';
import { mqttChannel } from '../../runtime/endpoints/mqtt/channel.ts';

describe('context path templates', () => {
  it('match whole segments, decode values, ignore sub-paths, and give an empty value for a missing segment', () => {
    const template = parseTemplate('/sensors/{deviceId}/rooms/{room}')!;
    expect(template.prefix).toBe('/sensors/');
    expect({ ...matchTemplate(template, '/sensors/a%20b/rooms/kitchen/extra/') }).toEqual({ deviceId: 'a b', room: 'kitchen' });
    expect(matchTemplate(template, '/sensors/x/halls/kitchen/')).toBeNull();
    expect(matchTemplate(template, '/other/x/')).toBeNull();
    expect({ ...matchTemplate(template, '/sensors/x/rooms/') }).toEqual({ deviceId: 'x', room: '' });
    expect(() => parseTemplate('/rooms/x{room}')).toThrow(/not a whole parameter/);
    expect(parseTemplate('/plain/path')).toBeNull();
  });
});

describe('parameter values and Kafka topic templates', () => {
  it('accept only declared values, and with a pattern both must hold', () => {
    const rules = compileParameterRules({ tenant: { values: ['a', 'b'] }, region: { values: ['eu', 'us1'], pattern: '[a-z]+' } });
    expect(parameterProblem('tenant', 'a', rules.get('tenant'), [])).toBeNull();
    expect(parameterProblem('tenant', 'c', rules.get('tenant'), [])).toMatch(/tenant is not one of its declared values/);
    expect(parameterProblem('region', 'eu', rules.get('region'), [])).toBeNull();
    expect(parameterProblem('region', 'us1', rules.get('region'), [])).toMatch(/does not match its pattern/);
  });

  it('name a topic per channel, refuse a value that makes no topic name, and recognise their topics in cursors', () => {
    const topics = topicTemplates(['telemetry.{tenant}', 'alerts'], 'in.{tenant}.x');
    expect(topics.perChannel).toBe(true);
    expect(topics.consumerTopics({ tenant: 'acme' })).toEqual(['telemetry.acme', 'alerts']);
    expect(topics.producerTopic({ tenant: 'acme' })).toBe('in.acme.x');
    expect(() => topics.consumerTopics({ tenant: 'a b' })).toThrow(/not a Kafka topic name/);
    expect(() => topics.consumerTopics(undefined)).toThrow(/needs the channel parameters tenant/);
    expect([topics.ours('telemetry.acme'), topics.ours('alerts'), topics.ours('telemetry.'), topics.ours('other.acme')]).toEqual([true, true, false, false]);
    expect(topicTemplates(['plain'], 'out').perChannel).toBe(false);
    const every = re2RegExp(everyChannelPattern(['telemetry.{tenant}', 'alerts'])!);
    expect(['telemetry.acme', 'alerts', 'telemetryXacme', 'telemetry.', 'other'].map((t) => every.test(t))).toEqual([true, true, false, false, false]);
    expect(everyChannelPattern(['plain'])).toBeUndefined();
    expect([fitsTemplate('a.{x}.b.{y}', 'a.1.b.2'), fitsTemplate('a.{x}.b.{y}', 'a.1.b.'), fitsTemplate('{x}', 'v')]).toEqual([true, false, true]);
  });
});

describe('caller-dependent conditions', () => {
  it('are those reading request or caller as names, not as member names', () => {
    expect(expressionUsesCaller('request.params.deviceId == $.device')).toBe(true);
    expect(expressionUsesCaller('caller.claims.tier == "gold"')).toBe(true);
    expect(expressionUsesCaller('$.caller == headers.request')).toBe(false);
    expect(compileFlow([{ policy: 'message-filter', condition: '$.a == 1' }], 'subscribe').perCaller).toBeFalsy();
    expect(compileFlow([{ policy: 'message-filter', condition: 'caller.plan == "gold"' }], 'subscribe').perCaller).toBe(true);
  });
});

/** An endpoint whose subscription yields what the test pushes. */
function pushEndpoint() {
  const pending: Message[] = [];
  let wake: (() => void) | undefined;
  const endpoint = {
    type: 'fake', publishes: false, subscribes: true, shared: true, resumable: false,
    start: async () => {}, stop: async () => {}, health: () => ({ healthy: true }), publish: async () => {},
    async *subscribe({ signal }: { signal: AbortSignal }) {
      while (!signal.aborted) {
        if (pending.length) yield pending.shift()!;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  } as unknown as Endpoint;
  return { endpoint, push: (m: Message) => { pending.push(m); wake?.(); } };
}

const context = (deviceId: string, tier?: string): FlowContext => ({
  request: { params: { deviceId }, query: {} },
  caller: { plan: 'p', ...(tier ? { claims: { tier } } : {}) },
});
const reading = (device: string, text: string) => message({ id: text, content: Buffer.from(text), metadata: { topic: `sensors/${device}` } });

async function take(queue: AsyncIterable<Delivery>, count: number): Promise<Delivery[]> {
  const out: Delivery[] = [];
  if (count === 0) return out;
  for await (const delivery of queue) {
    out.push(delivery);
    if (out.length === count) break;
  }
  return out;
}

describe('the fanout with channels', () => {
  const settings = { queueSize: 100, slowConsumerPolicy: 'disconnect' as const, maxQueuedBytes: 1 << 20 };

  it('gives each client only its channel, one shared Delivery per message for a channel\'s clients', async () => {
    const { endpoint, push } = pushEndpoint();
    const fanout = new Fanout(endpoint, compileFlow(undefined, 'subscribe'), settings, 'sensors', new Telemetry());
    const abort = new AbortController();
    const member = (device: string) => ({ ...mqttChannel('sensors/{deviceId}', { deviceId: device }), context: context(device) });
    const kitchen1 = fanout.attach(abort.signal, undefined, undefined, member('kitchen'));
    const kitchen2 = fanout.attach(abort.signal, undefined, undefined, member('kitchen'));
    const garage = fanout.attach(abort.signal, undefined, undefined, member('garage'));
    const all = fanout.attach(abort.signal);
    for (const [device, text] of [['kitchen', 'k1'], ['garage', 'g1'], ['kitchen', 'k2']] as const) push(reading(device, text));
    const [a, b, g, every] = await Promise.all([take(kitchen1, 2), take(kitchen2, 2), take(garage, 1), take(all, 3)]);
    expect(a.map((d) => d.message.id)).toEqual(['k1', 'k2']);
    expect(g.map((d) => d.message.id)).toEqual(['g1']);
    expect(every.map((d) => d.message.id)).toEqual(['k1', 'g1', 'k2']);
    expect(a[0]).toBe(b[0]); // encoded once for every client of the channel
    expect(fanout.upstreamSubscriptions).toBe(1);
    abort.abort();
  });

  it('runs a caller-dependent flow per client with its context, and never leaks the context into the delivery', async () => {
    const { endpoint, push } = pushEndpoint();
    const flow = compileFlow([{ policy: 'message-filter', condition: '!startsWith(content, "premium") || caller.claims.tier == "gold"' }], 'subscribe');
    const fanout = new Fanout(endpoint, flow, settings, 'sensors', new Telemetry());
    const abort = new AbortController();
    const gold = fanout.attach(abort.signal, undefined, undefined, { context: context('x', 'gold') });
    const basic = fanout.attach(abort.signal, undefined, undefined, { context: context('x') });
    for (const text of ['hello', 'premium', 'bye']) push(reading('x', text));
    const [g, b] = await Promise.all([take(gold, 3), take(basic, 2)]);
    expect(g.map((d) => d.message.id)).toEqual(['hello', 'premium', 'bye']);
    expect(b.map((d) => d.message.id)).toEqual(['hello', 'bye']);
    expect(g.every((d) => !('context' in d.message))).toBe(true);
    abort.abort();
  });
});
