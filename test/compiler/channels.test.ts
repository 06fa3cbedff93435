/**
 * Channels in the compiler: context path templates, their parameters, the endpoint settings that map
 * them and the plans that bind them (docs/guides/channels.md).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileFolder, type Diagnostic } from '../../compiler/index.ts';

const mqtt = (consumer: string, producer?: string) => ({
  type: 'mqtt', serverHost: 'mqtt.internal', consumer: { topic: consumer }, ...(producer ? { producer: { topic: producer } } : {}),
});
const api = (fields: Record<string, unknown>) => JSON.stringify({
  name: 'Sensors', state: 'started', lifecycle: 'published', contextPaths: ['/sensors/{deviceId}'],
  entrypoints: [{ type: 'websocket' }], endpoints: [mqtt('sensors/readings/{deviceId}', 'sensors/commands/{deviceId}')], ...fields,
}, null, 2);
const KEYLESS = '{"type":"keyless","name":"Open","status":"published"}';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-channels-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(id: string, json: string, plans: Record<string, string> = { open: KEYLESS }): void {
  mkdirSync(join(root, id, 'plans'), { recursive: true });
  writeFileSync(join(root, id, 'api.json'), json);
  for (const [key, plan] of Object.entries(plans)) writeFileSync(join(root, id, 'plans', `${key}.json`), plan);
}
const brief = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.file}:${d.line} ${d.code} ${d.message}`);

describe('channels in the compiler', () => {
  it('accepts a template mapped by the MQTT consumer and producer topics, with a declared pattern', async () => {
    write('sensors', api({ parameters: { deviceId: { description: 'The device', pattern: '[a-z0-9-]+' } } }));
    const { diagnostics, bundle } = await compileFolder(root);
    expect(brief(diagnostics)).toEqual([]);
    expect(bundle!.apis.sensors!.definition.contextPaths).toEqual(['/sensors/{deviceId}/']);
  });

  it('refuses an endpoint naming an unknown parameter and a template parameter the consumer does not map', async () => {
    write('sensors', api({ endpoints: [mqtt('sensors/readings/+', 'sensors/commands/{device}')] }));
    expect(brief((await compileFolder(root)).diagnostics)).toEqual([
      expect.stringMatching(/^sensors\/api\.json:\d+ CHANNEL_PARAMETER_UNMAPPED the context path parameter \{deviceId\} is not mapped by this endpoint: use it in consumer\/topic/),
      expect.stringMatching(/^sensors\/api\.json:\d+ CHANNEL_PARAMETER_UNKNOWN producer\/topic "sensors\/commands\/\{device\}" names \{device\}, which no context path of API sensors declares/),
    ]);
  });

  it('refuses a template parameter an endpoint does not map (Kafka without consumer.match), a bad segment, an unsafe pattern and a bind to nothing', async () => {
    write('sensors', api({
      contextPaths: ['/sensors/{deviceId}', '/rooms/x{room}'],
      endpoints: [{ type: 'kafka', bootstrapServers: ['kafka:9092'], consumer: { topics: ['t'] } }],
      parameters: { deviceId: { pattern: '(?=a)a' } },
    }), { open: KEYLESS, devices: '{"type":"jwt","name":"D","status":"published","signature":"HS256","secret":{"env":"S"},"bind":{"tenant":"claims.tenant"}}' });
    const codes = (await compileFolder(root)).diagnostics.map((d) => `${d.file} ${d.code}`);
    expect(codes).toEqual(expect.arrayContaining([
      'sensors/api.json CONTEXT_PATH_TEMPLATE',
      'sensors/api.json CHANNEL_PARAMETER_UNMAPPED',
      'sensors/api.json UNSAFE_REGEX',
      'sensors/plans/devices.json CHANNEL_PARAMETER_UNKNOWN',
    ]));
  });

  it('accepts a Kafka consumer.match by key or header and a producer key using the parameter', async () => {
    write('telemetry', api({
      contextPaths: ['/telemetry/{tenant}'],
      endpoints: [{ type: 'kafka', bootstrapServers: ['kafka:9092'], consumer: { topics: ['t'], match: { headers: { 'x-tenant': '{tenant}' } } }, producer: { topic: 't', key: '{tenant}' } }],
    }));
    expect(brief((await compileFolder(root)).diagnostics)).toEqual([]);
  });

  it('refuses a template overlapping another API\'s path (the template claims its static prefix)', async () => {
    write('sensors', api({}));
    write('other', api({ contextPaths: ['/sensors/special'], endpoints: [mqtt('other')] }));
    const overlap = (await compileFolder(root)).diagnostics.filter((d) => d.code === 'CONTEXT_PATH_OVERLAP').map((d) => `${d.file} ${d.message}`);
    expect(overlap).toEqual(expect.arrayContaining([expect.stringMatching(/^other\/api\.json context path \/sensors\/special\/ lies under \/sensors\/ of API sensors/)]));
  });

  it('accepts a Kafka topic per parameter value with a pattern or values, and refuses one whose parameter has neither', async () => {
    const kafka = { type: 'kafka', bootstrapServers: ['kafka:9092'], consumer: { topics: ['telemetry.{tenant}'] }, producer: { topic: 'telemetry.{tenant}' } };
    write('telemetry', api({ contextPaths: ['/telemetry/{tenant}'], endpoints: [kafka], parameters: { tenant: { values: ['a', 'b'] } } }));
    expect(brief((await compileFolder(root)).diagnostics)).toEqual([]);
    write('telemetry', api({ contextPaths: ['/telemetry/{tenant}'], endpoints: [kafka], parameters: { tenant: { pattern: '[a-z]+' } } }));
    expect(brief((await compileFolder(root)).diagnostics)).toEqual([]);
    write('telemetry', api({ contextPaths: ['/telemetry/{tenant}'], endpoints: [kafka], parameters: { tenant: { description: 'The tenant' } } }));
    expect(brief((await compileFolder(root)).diagnostics)).toEqual([
      expect.stringMatching(/^telemetry\/api\.json:\d+ CHANNEL_TOPIC_UNBOUNDED the topic "telemetry\.\{tenant\}" uses \{tenant\}, which has neither a pattern nor values: .*parameters\.tenant/),
      expect.stringMatching(/^telemetry\/api\.json:\d+ CHANNEL_TOPIC_UNBOUNDED the topic "telemetry\.\{tenant\}" uses \{tenant\}/),
    ]);
  });
});
