// `npm run test:e2e`: the site in a real browser (Debian's Chromium through playwright-core).
// Kept apart from `npm test`, which must pass on a machine without a browser.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests/e2e'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  // Each file starts a server and a browser: one file at a time keeps the two cores for them.
  maxWorkers: 1,
  testTimeout: 30000,
};
