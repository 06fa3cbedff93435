/** Every entrypoint's contract over the suite's real nats-server: core subjects, and JetStream streams (resumable). */
import { entrypointContract } from './entrypoint-suite.ts';
import { entrypointDrivers } from './entrypoint-drivers.ts';
import { natsBackend } from './nats-backend.ts';

for (const mode of ['core', 'stream'] as const) {
  for (const driver of entrypointDrivers) entrypointContract(driver, natsBackend(mode));
}
