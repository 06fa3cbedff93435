/** Every entrypoint's contract over the suite's real RabbitMQ (the rabbitmq endpoint; not resumable). */
import { entrypointContract } from './entrypoint-suite.ts';
import { entrypointDrivers } from './entrypoint-drivers.ts';
import { rabbitmqBackend } from './rabbitmq-backend.ts';

for (const driver of entrypointDrivers) entrypointContract(driver, rabbitmqBackend());
