/**
 * Runs the test brokers by hand, for trying the examples: Kafka (KRaft) and/or Mosquitto on
 * 127.0.0.1 until Ctrl-C, with throwaway data.
 *
 *   node bin/run-ts.js test/support/brokers/serve.ts --kafka 9092 [--data DIR] [--mqtt 1884]
 *
 * `--data DIR` keeps Kafka's topics and offsets in DIR, so stopping and starting it again is a
 * broker outage to try, not a new empty broker. Kafka needs the jars of
 * `test/support/brokers/fetch-kafka.sh` (run it once).
 */
import { startKafka, type KafkaBroker } from './kafka-broker.ts';
import { startMosquitto, type MosquittoBroker } from './mosquitto-broker.ts';

function portOf(flag: string): number | undefined {
  const index = process.argv.indexOf(flag);
  if (index === -1) return undefined;
  const port = Number(process.argv[index + 1]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${flag} needs a port number`);
  return port;
}

const kafkaPort = portOf('--kafka');
const dataIndex = process.argv.indexOf('--data');
const kafkaDir = dataIndex === -1 ? undefined : process.argv[dataIndex + 1];
if (dataIndex !== -1 && (!kafkaDir || kafkaDir.startsWith('--'))) {
  console.error('--data needs a folder');
  process.exit(2);
}
const mqttPort = portOf('--mqtt');
if (kafkaPort === undefined && mqttPort === undefined) {
  console.error('usage: node bin/run-ts.js test/support/brokers/serve.ts [--kafka PORT [--data DIR]] [--mqtt PORT]');
  process.exit(2);
}
let kafka: KafkaBroker | undefined;
let mosquitto: MosquittoBroker | undefined;
const stop = async () => {
  await Promise.all([kafka?.close(), mosquitto?.close()]);
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
try {
  if (kafkaPort !== undefined) {
    kafka = await startKafka({ port: kafkaPort, ...(kafkaDir ? { dir: kafkaDir } : {}) });
    console.log(`Kafka ready on ${kafka.bootstrap}${kafkaDir ? ` (data in ${kafkaDir})` : ''}`);
  }
  if (mqttPort !== undefined) {
    mosquitto = await startMosquitto(mqttPort);
    console.log(`Mosquitto ready on ${mosquitto.url}`);
  }
  console.log('Ctrl-C stops them.');
} catch (error) {
  console.error((error as Error).message);
  await stop();
}
