import { readFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { UserError } from '../src/errors.js';
import { signFiles } from '../src/pipeline/sign-files.js';
import type { SignSettings } from '../src/pipeline/sign-file.js';
import type { Signer } from '../src/signers/signer.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';

let fixtures: PeFixture[];
beforeAll(async () => {
  fixtures = await ensurePeFixtures();
});

const settings: SignSettings = { fileDigest: 'sha256', existing: 'replace', pageHashes: false };

/** A key store whose signing call fails the way `error` says. */
async function failingSigner(error: Error): Promise<Signer> {
  return { signDigest: () => Promise.reject(error) };
}

async function failedWith(error: Error): Promise<string> {
  const file = await copyFixture(
    fixtures.find((f) => f.name === 'pe64.exe')!,
    await scratchDir('failures'),
  );
  const before = await readFile(file);
  const [result] = await signFiles([file], await failingSigner(error), settings, { concurrency: 1 });
  expect(result.status).toBe('failed');
  expect((await readFile(file)).equals(before)).toBe(true);
  return result.detail;
}

describe('why a file failed', () => {
  it("wraps a library's raw error in a sentence that names the step and asks for a report", async () => {
    expect(
      await failedWith(new Error("Object's schema was not verified against input data for SignedData")),
    ).toBe(
      "unexpected error while signing it: Object's schema was not verified against input data for SignedData; please report it (the message and the file's kind)",
    );
  });

  it('keeps our own explanations and OS errors as they are', async () => {
    expect(await failedWith(new UserError('the vault refused: grant the role'))).toBe(
      'the vault refused: grant the role',
    );
    const io = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    expect(await failedWith(io)).toBe('EIO: i/o error, read');
  });
});
