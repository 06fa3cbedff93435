/**
 * `npm run bench`: Sluice against bare baselines on this machine, loopback only, bounded in
 * count and time (a full run takes about 9 minutes on 2 cores; a hard deadline stops it at 14).
 *
 * Starts Kafka (KRaft, the test harness's jars), Mosquitto and nats-server on free ports (RabbitMQ for
 * its fan-out rows: bench/rabbitmq-fanout.ts), then runs:
 *   fanout   N = 1, 100, 1000 WebSocket and SSE clients over MQTT, Kafka, NATS and RabbitMQ, Sluice vs bench/relay.ts
 *   publish  HTTP POST and WebSocket publish to Kafka through Sluice vs kafkajs producing directly
 *   tracing  HTTP POST to Kafka with OTEL_EXPORTER_OTLP_ENDPOINT unset vs set to a local sink (bench/tracing.ts)
 *   swap     a deploy every second for 30 s while 500 clients stream from an unchanged API
 *   compile  1,000 and 10,000 APIs (bench/compile.ts)
 *   channels fanout CPU per delivered message, 1,000 clients over 100 channels vs one (bench/channels.ts, in process)
 *   idle       memory per idle subscriber: 4,000 idle WebSocket / SSE clients on a fresh relay, Sluice (MQTT, Kafka) and nginx + nchan (bench/idle.ts)
 *   saturation N = 100, 1000 WebSocket and SSE clients as fast as the path delivers: Sluice and the relay (MQTT, Kafka)
 *            vs nginx + nchan (HTTP publish), and the upstream cost with one subscriber (bench/saturation.ts)
 * Servers and clients are separate child processes. Each case prints one JSON line on stdout; the
 * markdown table goes to bench/results/latest.md (progress goes to stderr).
 *
 *   npm run bench [-- --only fanout,idle,publish,tracing,swap,compile,channels,saturation] [--quick] [--sizes 1000] [--cases mqtt-websocket] [--seconds 4]
 *                    [--out FILE] [--cpu-prof DIR]
 *
 * `--quick` (N up to 100, shorter windows), `--only`, `--sizes` and `--cases` (fan-out broker-entrypoint
 * pairs) are for trying changes: they
 * write no table unless --out. `--cpu-prof DIR` profiles every server under test (node --cpu-prof).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { startKafka, type KafkaBroker } from '../test/support/brokers/kafka-broker.ts';
import { startMosquitto, type MosquittoBroker } from '../test/support/brokers/mosquitto-broker.ts';
import { startNats, type NatsBroker } from '../test/support/brokers/nats-broker.ts';
import { ClientProcess, serverNodeFlags, type ServerProcess } from './processes.ts';
import { Publisher } from './publisher.ts';
import type { Brokers } from './bundles.ts';
import { fanoutSection } from './fanout.ts';
import { rabbitmqFanoutSection } from './rabbitmq-fanout.ts';
import { publishSection } from './publish.ts';
import { swapSection } from './swap.ts';
import { tracingSection } from './tracing.ts';
import { compileSection } from './compile-cases.ts';
import { channelsSection } from './channels-cases.ts';
import { saturationSection } from './saturation.ts';
import { idleSection } from './idle.ts';
import { machine, markdown, type Result } from './report.ts';

const { values: flags } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean', default: false }, out: { type: 'string' }, sizes: { type: 'string' }, cases: { type: 'string' }, seconds: { type: 'string' }, 'cpu-prof': { type: 'string' } } });
if (flags['cpu-prof']) serverNodeFlags.push('--cpu-prof', '--cpu-prof-dir', flags['cpu-prof']);
const sections = new Set((flags.only ?? 'fanout,idle,publish,tracing,swap,compile,channels,saturation').split(','));
const quick = flags.quick;
const DEADLINE = Date.now() + 14 * 60_000;
const began = Date.now();
const results: Result[] = [];
const notes: string[] = [];

const progress = (text: string) => process.stderr.write(`bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)}s  ${text}\n`);
function record(result: Result): void {
  results.push(result);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
function timeLeft(ms: number): boolean {
  return Date.now() + ms < DEADLINE;
}

const work = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
let kafka: KafkaBroker | undefined;
let mosquitto: MosquittoBroker | undefined;
let nats: NatsBroker | undefined;
let clients: ClientProcess | undefined;
let publisher: Publisher | undefined;
const servers = new Set<ServerProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function serverOf<T extends ServerProcess>(start: () => Promise<T>): Promise<T> {
  const server = await start();
  servers.add(server);
  return server;
}
async function stopServer(server: ServerProcess): Promise<void> {
  servers.delete(server);
  await server.stop();
}

async function createTopics(brokers: Brokers, topics: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'bench-admin', brokers: [brokers.kafka], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1, replicationFactor: 1 })), waitForLeaders: true });
  await admin.disconnect();
}

try {
  const needsBrokers = sections.has('fanout') || sections.has('publish') || sections.has('tracing') || sections.has('swap') || sections.has('saturation') || sections.has('idle');
  let brokers: Brokers | undefined;
  if (needsBrokers) {
    progress('starting Kafka, Mosquitto and nats-server');
    [kafka, mosquitto, nats] = await Promise.all([
      process.env.KAFKA_BOOTSTRAP ? undefined : startKafka(),
      process.env.MQTT_URL ? undefined : startMosquitto(),
      process.env.NATS_URL ? undefined : startNats(),
    ]);
    brokers = { kafka: process.env.KAFKA_BOOTSTRAP ?? kafka!.bootstrap, mqtt: process.env.MQTT_URL ?? mosquitto!.url, nats: process.env.NATS_URL ?? nats!.url };
    clients = new ClientProcess();
    publisher = await Publisher.start(brokers);
  }
  const context = {
    brokers: brokers!, clients: clients!, publisher: publisher!, work, quick, record, progress, notes, timeLeft, serverOf, stopServer, createTopics,
    sizes: flags.sizes ? flags.sizes.split(',').map(Number) : quick ? [1, 100] : [1, 100, 1000],
    cases: flags.cases?.split(','),
    seconds: flags.seconds ? Number(flags.seconds) : quick ? 2 : 4,
  };
  if (sections.has('fanout')) await fanoutSection(context);
  if (sections.has('fanout')) await rabbitmqFanoutSection(context);
  if (sections.has('publish')) await publishSection(context);
  if (sections.has('tracing')) await tracingSection(context);
  if (sections.has('swap')) await swapSection(context);
  if (sections.has('compile')) await compileSection(context);
  if (sections.has('channels')) await channelsSection(context);
  if (sections.has('idle')) await idleSection(context);
  if (sections.has('saturation')) await saturationSection(context);
} finally {
  await publisher?.close();
  await clients?.stop();
  for (const server of [...servers]) await stopServer(server);
  await Promise.all([kafka?.close(), mosquitto?.close(), nats?.close()]);
  rmSync(work, { recursive: true, force: true });
}

const out = flags.out ?? (quick || flags.only || flags.sizes || flags.cases || flags.seconds ? undefined : 'bench/results/latest.md');
if (out) {
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, markdown(results, machine(), notes, (Date.now() - began) / 1000));
  progress(`table written to ${out}`);
}
progress(`done in ${((Date.now() - began) / 1000).toFixed(0)} s`);
for (const note of notes) progress(`note: ${note}`);
