// Two projects in one run: every test against the server under Node, and
// the stage tests again against the same sources run by Bun (as
// CodeCrafters runs them).
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tests/tsconfig.json' }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  moduleFileExtensions: ['ts', 'js', 'json'],
};

export default {
  testTimeout: 30000,
  projects: [
    { ...common, displayName: 'node', testMatch: ['<rootDir>/tests/**/*.test.ts'] },
    {
      ...common,
      displayName: 'bun',
      testMatch: ['<rootDir>/tests/stages/**/*.test.ts'],
      setupFiles: ['<rootDir>/tests/helpers/use-bun.ts'],
    },
  ],
};
