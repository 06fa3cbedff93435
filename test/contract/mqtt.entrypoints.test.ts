/** Every entrypoint's contract over the suite's real Mosquitto (the mqtt endpoint; not resumable). */
import { entrypointContract } from './entrypoint-suite.ts';
import { entrypointDrivers } from './entrypoint-drivers.ts';
import { mqttBackend } from './mqtt-backend.ts';

for (const driver of entrypointDrivers) entrypointContract(driver, mqttBackend());
