import { defineConfig } from 'vitest/config';

/**
 * Test projects: `unit` (pure logic), `int-sqlite` and `int-postgres` (the same integration files,
 * once per engine, selected by KURA_TEST_DB), `e2e` (real server processes, TLS, Chromium).
 */
const integration = ['src/**/*.int.test.ts', 'test/integration/**/*.int.test.ts'];
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'], exclude: integration } },
      { extends: true, test: { name: 'int-sqlite', include: integration, env: { KURA_TEST_DB: 'sqlite' } } },
      { extends: true, test: { name: 'int-postgres', include: integration, env: { KURA_TEST_DB: 'postgres' } } },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.e2e.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
