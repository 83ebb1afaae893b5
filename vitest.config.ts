import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs nothing running and sits beside the modules;
// `integration` lives in test/ and gets real servers from the global setup.
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{bin,core,notify,sidecar,collector,event-router,alert-rules,dashboards}/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          globalSetup: ['test/infra/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
