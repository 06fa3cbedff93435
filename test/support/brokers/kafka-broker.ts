/**
 * Starts a real Apache Kafka 3.9 broker for tests: KRaft combined mode (broker + controller, one
 * node) on free loopback ports, data in a fresh temp dir, small heap. The jars come from
 * `test/support/brokers/fetch-kafka.sh` (Maven Central). Readiness is a kafkajs admin call, never a sleep;
 * when the broker does not come up, the error carries the tail of its log.
 *
 * `stop()` kills the JVM and keeps the data; `start()` starts it again on the same ports with the
 * same data (for broker-outage tests); `close()` stops and removes the temp dir. All idempotent.
 * With `dir` the broker's files live there instead: formatted on first use, reused by later
 * starts (topics and offsets survive a restart), never removed.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { loopbackPort } from './loopback-port.ts';
import { pollReady, startBrokerProcess } from './broker-process.ts';

export const KAFKA_LIB = join(dirname(fileURLToPath(import.meta.url)), '.kafka', 'lib');
const READY_TIMEOUT_MS = 90_000;
const LOG_LIMIT = 64 * 1024;

export interface KafkaBroker {
  readonly bootstrap: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  close(): Promise<void>;
  log(): string;
}

export interface KafkaOptions {
  /** Client port on 127.0.0.1 (default: a free one). */
  readonly port?: number;
  /** KRaft controller port (default: a free one). */
  readonly controllerPort?: number;
  /** SASL/PLAIN users (name -> password): the client listener is SASL_PLAINTEXT instead of PLAINTEXT. */
  readonly saslPlainUsers?: Readonly<Record<string, string>>;
  /** Keep the broker's files in this folder across starts (default: a fresh temp dir, removed by close()). */
  readonly dir?: string;
}

/** The broker's own user on a SASL listener (inter-broker traffic and the readiness check). */
const SASL_ADMIN = { username: 'admin', password: 'admin-secret' };

export async function startKafka(ports: KafkaOptions = {}): Promise<KafkaBroker> {
  if (!existsSync(KAFKA_LIB) || !readdirSync(KAFKA_LIB).some((f) => f.startsWith('kafka_2.13-'))) {
    throw new Error(`Kafka jars missing in ${KAFKA_LIB}: run test/support/brokers/fetch-kafka.sh first`);
  }
  const port = ports.port ?? (await loopbackPort());
  const controllerPort = ports.controllerPort ?? (await loopbackPort());
  const dir = ports.dir ?? mkdtempSync(join(tmpdir(), 'sluice-kafka-'));
  mkdirSync(dir, { recursive: true });
  const bootstrap = `127.0.0.1:${port}`;
  writeFileSync(join(dir, 'server.properties'), serverProperties(port, controllerPort, join(dir, 'data'), ports.saslPlainUsers));
  writeFileSync(join(dir, 'log4j.properties'), LOG4J);
  if (!existsSync(join(dir, 'data', 'meta.properties'))) {
    await java(dir, ['kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', join(dir, 'server.properties')]);
  }

  const broker = await startBrokerProcess({
    name: 'Kafka',
    command: 'java',
    args: [...JVM_OPTS(dir), 'kafka.Kafka', join(dir, 'server.properties')],
    cwd: dir,
    address: bootstrap,
    ready: () => ready(bootstrap, ports.saslPlainUsers !== undefined),
    installHint: 'apt-get install default-jre-headless',
    logLimit: LOG_LIMIT,
    keepDir: ports.dir !== undefined,
  });
  return { bootstrap, ...broker };
}

/** Resolves once the broker answers a metadata request and has a controller; bounded. */
function ready(bootstrap: string, sasl: boolean): Promise<void> {
  const kafka = new Kafka({
    clientId: 'sluice-test-ready', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 0 },
    ...(sasl ? { sasl: { mechanism: 'plain' as const, ...SASL_ADMIN } } : {}),
  });
  return pollReady(async () => {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0 || cluster.controller === null) throw new Error('no controller yet');
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }, READY_TIMEOUT_MS, 200);
}

/** A Kafka cluster id (base64url of 16 random bytes); like Kafka's own, never starting with '-', which the tool would read as an option. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function JVM_OPTS(dir: string): string[] {
  return [
    '-Xmx512m', '-Xms128m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1', '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${join(dir, 'log4j.properties')}`, '-cp', join(KAFKA_LIB, '*'),
  ];
}

function java(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', [...JVM_OPTS(dir), ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out = (out + c).slice(-LOG_LIMIT)));
    child.stderr.on('data', (c: Buffer) => (out = (out + c).slice(-LOG_LIMIT)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${args[0]} exited ${code}:\n${out.slice(-4000)}`))));
  });
}

function serverProperties(port: number, controllerPort: number, dataDir: string, saslUsers?: Readonly<Record<string, string>>): string {
  const client = saslUsers ? 'SASL_PLAINTEXT' : 'PLAINTEXT';
  const users = { [SASL_ADMIN.username]: SASL_ADMIN.password, ...saslUsers };
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=${client}://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=${client}://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    `listener.security.protocol.map=${client}:${client},CONTROLLER:PLAINTEXT`,
    `inter.broker.listener.name=${client}`,
    ...(saslUsers
      ? [
          'sasl.enabled.mechanisms=PLAIN',
          'sasl.mechanism.inter.broker.protocol=PLAIN',
          `listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${SASL_ADMIN.username}" password="${SASL_ADMIN.password}" ${Object.entries(users).map(([u, pw]) => `user_${u}="${pw}"`).join(' ')};`,
        ]
      : []),
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    'auto.create.topics.enable=true',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
    'log.flush.interval.ms=60000',
    '',
  ].join('\n');
}

const LOG4J = [
  'log4j.rootLogger=WARN, stdout',
  'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
  'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
  'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
  'log4j.logger.kafka.server.KafkaRaftServer=INFO',
  'log4j.logger.kafka.server.BrokerServer=INFO',
  '',
].join('\n');
