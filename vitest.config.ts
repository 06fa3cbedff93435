import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    pool: 'forks',
    // `node bin/sluice.js` in tests runs the TypeScript sources (through tsx), not a possibly stale dist/;
    // test/package/ runs the built package.
    env: { SLUICE_FROM_SOURCES: '1' },
    // Real Kafka and Mosquitto, started lazily on first use and shared by all files (test/support/brokers/).
    globalSetup: ['test/support/brokers/global-setup.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest-report.json' }]],
  },
});
