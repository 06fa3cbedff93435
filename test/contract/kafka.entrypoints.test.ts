/** Every entrypoint's contract over the suite's real Kafka (the kafka endpoint; resumable). */
import { entrypointContract } from './entrypoint-suite.ts';
import { entrypointDrivers } from './entrypoint-drivers.ts';
import { kafkaBackend } from './kafka-backend.ts';

for (const driver of entrypointDrivers) entrypointContract(driver, kafkaBackend());
