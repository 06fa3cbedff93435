import { entrypointContract } from './entrypoint-suite.ts';
import { websocketDriver } from './entrypoint-drivers.ts';
import { mockBackend } from './numbered-mock.ts';

entrypointContract(websocketDriver, mockBackend());
