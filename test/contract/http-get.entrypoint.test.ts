import { entrypointContract } from './entrypoint-suite.ts';
import { httpGetDriver } from './entrypoint-drivers.ts';
import { mockBackend } from './numbered-mock.ts';

entrypointContract(httpGetDriver, mockBackend());
