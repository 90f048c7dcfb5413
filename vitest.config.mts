import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DynamoDB Local (Java) is started once for the whole run; its endpoint reaches tests through `inject`.
    globalSetup: ['test/support/dynamodb-local.global-setup.ts'],
    env: {
      // The SDK warns about Node 20 on every client creation; this machine runs 20, Lambda runs 24.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two cores: integration tests spawn processes and Java; more workers only add contention.
    maxWorkers: 2,
  },
});
