/** ESM all the way: pkijs and the Actions toolkit ship only ES modules. */
export default {
  preset: 'ts-jest/presets/default-esm',
  testEnvironment: 'node',
  roots: ['<rootDir>/__tests__'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true }] },
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/clear-scratch.mjs',
  globalTeardown: '<rootDir>/test/clear-scratch.mjs',
};
