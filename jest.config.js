// ESM all the way: several dependencies (jose, openid-client, PGlite) ship only as ES modules.
import { existsSync } from 'node:fs';

/** @type {import('jest').Config} */
export default {
  // jest's node environment plus Node's Symbol.dispose/asyncDispose (see the file).
  testEnvironment: '<rootDir>/test/harness/node-environment.ts',
  roots: ['src', 'lti', 'jobs', 'test'].filter((dir) => existsSync(dir)).map((dir) => `<rootDir>/${dir}`),
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    // Transpile only: type-checking is `npm run typecheck`'s job, and it keeps the suite fast.
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
  testTimeout: 30000,
};
