/**
 * Runs the test brokers by hand, for trying the examples: Kafka (KRaft) and/or Mosquitto on
 * 127.0.0.1 until Ctrl-C, with throwaway data.
 *
 *   node bin/run-ts.js test/brokers/serve.ts --kafka 9092 [--mqtt 1884]
 *
 * Kafka needs the jars of `test/brokers/fetch-kafka.sh` (run it once).
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
const mqttPort = portOf('--mqtt');
if (kafkaPort === undefined && mqttPort === undefined) {
  console.error('usage: node bin/run-ts.js test/brokers/serve.ts [--kafka PORT] [--mqtt PORT]');
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
    kafka = await startKafka({ port: kafkaPort });
    console.log(`Kafka ready on ${kafka.bootstrap}`);
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
