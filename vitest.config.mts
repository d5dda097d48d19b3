import { defineConfig } from 'vitest/config';

// Unit and integration tests run by default; the end-to-end tests in a real VS Code live in
// test/e2e/*.e2e.test.ts and run through `npm run test:e2e` (part of `npm test`).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['test/e2e/**', 'node_modules/**'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
