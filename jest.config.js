// Two projects in one run: every test against the server under Node, and
// the tests whose server can run in another process again against the
// same sources run by Bun (as CodeCrafters runs them): the stages and the
// robustness suites start `bun run app/main.ts`, the connection unit tests
// start their handlers under Bun (tests/helpers/connection-fixture.ts), and
// the stages over HTTPS (tests/tls/stages.test.ts) start it with TLS.
// The other unit tests (parser, router, content coding) are pure
// functions over byte strings and values: their result does not depend on
// the runtime, so they run once, under Node.
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
      testMatch: ['<rootDir>/tests/stages/**/*.test.ts', '<rootDir>/tests/robustness/**/*.test.ts', '<rootDir>/tests/unit/connection.test.ts', '<rootDir>/tests/tls/stages.test.ts'],
      // Its one test is Node-only (Bun 1.3 keeps reading a paused socket; README, "Bun").
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/robustness/back-pressure.test.ts'],
      setupFiles: ['<rootDir>/tests/helpers/use-bun.ts'],
    },
  ],
};
