// Vitest config for the end-to-end tests in a real VS Code (code-server + headless chromium):
//   npx vitest run --config test/e2e/vitest.config.mts [test/e2e/<file>.e2e.test.ts]
// The root vitest.config.ts excludes test/e2e/** so unit runs stay fast.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/e2e/**/*.e2e.test.ts'],
    exclude: ['node_modules/**', 'test/e2e/.cache/**', 'test/e2e/.work/**'],
    globalSetup: ['test/e2e/globalSetup.ts'],
    pool: 'forks',
    // Each file runs its own code-server + chromium; on a 2-core machine two at once only slow both down.
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
    teardownTimeout: 60_000,
  },
});
