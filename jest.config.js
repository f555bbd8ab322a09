// Plain JavaScript: jest would need ts-node to read a TypeScript config.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  // The cluster test needs PostgreSQL and nginx, the browser tests Chromium: they have scripts
  // of their own (npm run test:cluster, npm run test:e2e), so `npm test` needs neither.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/cluster/', '<rootDir>/tests/e2e/'],
  // tsconfig's isolatedModules makes ts-jest transpile only: `npm run typecheck` is the type
  // checker, so the suite starts fast.
  transform: { '^.+\\.ts$': 'ts-jest' },
  setupFilesAfterEnv: ['<rootDir>/tests/jest.setup.ts'],
  // A hanging test should fail, not stall CI.
  testTimeout: 15000,
};
