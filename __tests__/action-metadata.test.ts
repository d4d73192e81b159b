import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import { INPUTS, OUTPUTS } from '../src/config/inputs.js';
import { REPO } from '../test/paths.js';

interface ActionYml {
  inputs: Record<string, { description: string; default?: string; required?: boolean }>;
  outputs: Record<string, { description: string }>;
  runs: { using: string; main: string };
}

const action = load(readFileSync(join(REPO, 'action.yml'), 'utf8')) as ActionYml;
const readme = readFileSync(join(REPO, 'README.md'), 'utf8');

describe('action.yml', () => {
  it('runs dist/index.js on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(existsSync(join(REPO, 'dist', 'index.js'))).toBe(true);
  });

  it('declares exactly the inputs the code reads, with the same descriptions and defaults', () => {
    const declared = Object.fromEntries(
      Object.entries(action.inputs).map(([name, spec]) => [
        name,
        {
          description: spec.description,
          default: spec.default === undefined ? undefined : String(spec.default),
        },
      ]),
    );
    const read = Object.fromEntries(
      Object.entries(INPUTS).map(([name, spec]) => [
        name,
        { description: spec.description, default: 'default' in spec ? spec.default : undefined },
      ]),
    );
    expect(declared).toEqual(read);
  });

  it('declares exactly the outputs the code sets', () => {
    expect(Object.fromEntries(Object.entries(action.outputs).map(([n, o]) => [n, o.description]))).toEqual(
      OUTPUTS,
    );
  });

  it('has every input and output documented in the README', () => {
    for (const name of [...Object.keys(INPUTS), ...Object.keys(OUTPUTS)])
      expect({ name, documented: readme.includes(`\`${name}\``) }).toEqual({ name, documented: true });
  });
});
