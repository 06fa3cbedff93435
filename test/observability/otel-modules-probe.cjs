// Preloaded (`node --require`) into `sluice serve` by tracing.test.ts: at exit, prints how many
// modules of the OpenTelemetry SDK (every @opentelemetry package but the API, which prom-client
// loads for exemplars) the process loaded. They are CommonJS, so each one passes through
// require.cache, imported from ESM or not.
const { sep } = require('node:path');

process.on('exit', () => {
  const sdk = Object.keys(require.cache).filter((file) => file.includes(`${sep}@opentelemetry${sep}`) && !file.includes(`${sep}@opentelemetry${sep}api${sep}`));
  process.stderr.write(`opentelemetry-sdk-modules-loaded: ${sdk.length}\n`);
});
