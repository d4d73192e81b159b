import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { ensurePeFixtures, copyFixture, scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki } from '../test/pki.js';
import { osslSign, osslVerify } from '../test/osslsigncode.js';

describe('test infrastructure', () => {
  it('builds real PE32 and PE32+ fixtures with the overlays it claims', async () => {
    const fixtures = await ensurePeFixtures();
    expect(fixtures).toHaveLength(12);
    for (const fixture of fixtures) {
      const bytes = await readFile(fixture.path);
      expect(bytes.subarray(0, 2).toString('latin1')).toBe('MZ');
      const pe = bytes.readUInt32LE(0x3c);
      expect(bytes.readUInt32LE(pe)).toBe(0x4550);
      expect(bytes.readUInt16LE(pe + 24)).toBe(fixture.bits === 64 ? 0x20b : 0x10b);
      expect(!!(bytes.readUInt16LE(pe + 22) & 0x2000)).toBe(fixture.kind === 'dll');
    }
    const plain = await readFile(fixtures.find((f) => f.name === 'pe64.exe')!.path);
    const odd = await readFile(fixtures.find((f) => f.name === 'pe64-overlay1001.exe')!.path);
    expect(odd.length - plain.length).toBe(1001);
    expect(odd.length % 8).not.toBe(0);
  });

  it('has a PKI that osslsigncode itself signs and verifies with', async () => {
    const pki = await ensureTestPki();
    const [fixture] = await ensurePeFixtures();
    const dir = await scratchDir('infra');
    const input = await copyFixture(fixture, dir);
    await osslSign(input, `${input}.signed`, { cert: pki.leaves.rsa.chain, key: pki.leaves.rsa.key });
    const verdict = await osslVerify(`${input}.signed`, pki.rootCa);
    expect(verdict.output).toContain('Signature verification: ok');
    expect(verdict.ok).toBe(true);
    expect((await osslVerify(`${input}.signed`, pki.otherRoot)).ok).toBe(false);
  });
});
