import { execFile } from 'node:child_process';
import { createHash, verify, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import type { HashAlgorithm } from '../src/authenticode/algorithms.js';
import { UserError } from '../src/errors.js';
import { loadLocalSigner, type LocalKeyOptions } from '../src/signers/local-signer.js';
import type { KeyType } from '../src/signers/signer.js';
import { scratchDir } from '../test/pe-fixtures.js';
import { ensureTestPki, PFX_PASSWORD, type TestPki } from '../test/pki.js';

const run = promisify(execFile);
let pki: TestPki;
beforeAll(async () => {
  pki = await ensureTestPki();
});

const subject = (der: Buffer) =>
  new X509Certificate(der).subject.split('\n').find((p) => p.startsWith('CN='));

/** Signs a digest through the signer and checks it with the certificate, the way a verifier hashes the data. */
async function roundTrip(signer: Awaited<ReturnType<typeof loadLocalSigner>>, hash: HashAlgorithm) {
  const data = Buffer.from('the signed attributes, in practice');
  const { signature } = await signer.signDigest(hash, createHash(hash).update(data).digest());
  const key = new X509Certificate(signer.certificates[0]).publicKey;
  return verify(hash, data, signer.keyType === 'EC' ? { key, dsaEncoding: 'der' } : key, signature);
}

describe('local signer', () => {
  it.each([
    [
      'RSA-2048 PKCS#8',
      () => ({ certificateFile: pki.leaves.rsa.chain, privateKeyFile: pki.leaves.rsa.key }),
      'RSA',
    ],
    [
      'RSA-2048 PKCS#1',
      () => ({ certificateFile: pki.leaves.rsa.chain, privateKeyFile: pki.rsaPkcs1Key }),
      'RSA',
    ],
    [
      'RSA-4096',
      () => ({ certificateFile: pki.leaves.rsa4096.chain, privateKeyFile: pki.leaves.rsa4096.key }),
      'RSA',
    ],
    [
      'EC P-256 PKCS#8',
      () => ({ certificateFile: pki.leaves.ec.chain, privateKeyFile: pki.leaves.ec.key }),
      'EC',
    ],
    ['EC P-256 SEC1', () => ({ certificateFile: pki.leaves.ec.chain, privateKeyFile: pki.ecSec1Key }), 'EC'],
    [
      'EC P-384',
      () => ({ certificateFile: pki.leaves.ec384.chain, privateKeyFile: pki.leaves.ec384.key }),
      'EC',
    ],
    [
      'EC P-521',
      () => ({ certificateFile: pki.leaves.ec521.chain, privateKeyFile: pki.leaves.ec521.key }),
      'EC',
    ],
    ['EC P-521 PFX', () => ({ pfxFile: pki.leaves.ec521.pfx, pfxPassword: PFX_PASSWORD }), 'EC'],
    ['PFX with AES', () => ({ pfxFile: pki.leaves.rsa.pfx, pfxPassword: PFX_PASSWORD }), 'RSA'],
    ['PFX with 3DES', () => ({ pfxFile: pki.rsaLegacyPfx, pfxPassword: PFX_PASSWORD }), 'RSA'],
    ['EC PFX', () => ({ pfxFile: pki.leaves.ec.pfx, pfxPassword: PFX_PASSWORD }), 'EC'],
  ] as [string, () => LocalKeyOptions, KeyType][])(
    '%s signs digests that verify with its certificate',
    async (_name, options, keyType) => {
      const signer = await loadLocalSigner(options());
      expect(signer.keyType).toBe(keyType);
      expect(signer.certificates).toHaveLength(2);
      expect(subject(signer.certificates[0])).toMatch(/^CN=vaultsign test signer/);
      expect(subject(signer.certificates[1])).toBe('CN=vaultsign Test Code Signing CA');
      for (const hash of ['sha256', 'sha384', 'sha512'] as const)
        expect(await roundTrip(signer, hash)).toBe(true);
    },
  );

  it('puts the leaf first whatever the order in the PEM file', async () => {
    const dir = await scratchDir('signer');
    const reversed = join(dir, 'reversed.pem');
    await writeFile(
      reversed,
      (await readFile(pki.intermediateCa, 'utf8')) + (await readFile(pki.leaves.ec.cert, 'utf8')),
    );
    const signer = await loadLocalSigner({ certificateFile: reversed, privateKeyFile: pki.leaves.ec.key });
    expect(subject(signer.certificates[0])).toBe('CN=vaultsign test signer ec');
  });

  it('reads a DER certificate file', async () => {
    const der = join(await scratchDir('signer'), 'leaf.cer');
    await writeFile(der, new X509Certificate(await readFile(pki.leaves.rsa.cert)).raw);
    const signer = await loadLocalSigner({ certificateFile: der, privateKeyFile: pki.leaves.rsa.key });
    expect(signer.certificates.map(subject)).toEqual(['CN=vaultsign test signer rsa']);
    expect(await roundTrip(signer, 'sha256')).toBe(true);
  });

  it('refuses an EC key on a curve other than P-256, P-384 or P-521, naming the curve', async () => {
    const dir = await scratchDir('signer-k1');
    const key = join(dir, 'k1.key');
    const cert = join(dir, 'k1.pem');
    const curve = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'];
    const files = ['-nodes', '-keyout', key, '-out', cert];
    await run('openssl', ['req', '-x509', ...curve, ...files, '-subj', '/CN=k1', '-days', '1']);
    await expect(loadLocalSigner({ certificateFile: cert, privateKeyFile: key })).rejects.toThrow(
      /EC key on secp256k1 is not supported \(use RSA 2048–4096, ECDSA P-256, P-384 or P-521\)/,
    );
  });

  it('refuses a digest of the wrong length', async () => {
    const signer = await loadLocalSigner({
      certificateFile: pki.leaves.rsa.chain,
      privateKeyFile: pki.leaves.rsa.key,
    });
    await expect(signer.signDigest('sha256', Buffer.alloc(20))).rejects.toThrow(
      /a sha256 digest has 32 bytes, not 20/,
    );
  });

  describe('reads a PFX', () => {
    let dir: string;
    /** `openssl pkcs12 -export` of the RSA leaf and its CA with `options`. */
    const exportPfx = async (name: string, password: string, ...options: string[]) => {
      const file = join(dir, name);
      await run('openssl', [
        'pkcs12',
        '-export',
        '-in',
        pki.leaves.rsa.cert,
        '-inkey',
        pki.leaves.rsa.key,
        '-certfile',
        pki.intermediateCa,
        '-out',
        file,
        '-passout',
        `pass:${password}`,
        ...options,
      ]);
      return file;
    };
    let noMac: string;
    let emptyPassword: string;
    beforeAll(async () => {
      dir = await scratchDir('signer-pfx');
      noMac = await exportPfx('no-mac.pfx', PFX_PASSWORD, '-nomac');
      emptyPassword = await exportPfx('empty-password.pfx', '');
    });

    it.each([
      ['without a MAC', () => ({ pfxFile: noMac, pfxPassword: PFX_PASSWORD })],
      ['with an empty password', () => ({ pfxFile: emptyPassword, pfxPassword: '' })],
    ] as [string, () => LocalKeyOptions][])('%s', async (_what, options) => {
      const signer = await loadLocalSigner(options());
      expect(signer.certificates.map(subject)).toEqual([
        'CN=vaultsign test signer rsa',
        'CN=vaultsign Test Code Signing CA',
      ]);
      expect(await roundTrip(signer, 'sha256')).toBe(true);
    });

    it('without a MAC, a wrong password is still reported as one', async () => {
      const attempt = loadLocalSigner({ pfxFile: noMac, pfxPassword: 'guess-123' });
      await expect(attempt).rejects.toThrow(/no-mac\.pfx: wrong password for this PFX file/);
      await expect(attempt).rejects.toBeInstanceOf(UserError);
    });

    it.each([
      ['with a MAC', () => pki.leaves.rsa.pfx],
      ['without a MAC', () => noMac],
    ])('%s, no password at all is named as missing, not wrong', async (_what, pfxFile) => {
      const attempt = loadLocalSigner({ pfxFile: pfxFile(), pfxPassword: '' });
      await expect(attempt).rejects.toThrow(
        /\.pfx: pfx-password is missing: the PFX is encrypted; give its password/,
      );
      await expect(attempt).rejects.toBeInstanceOf(UserError);
    });
  });

  describe('explains what is wrong with', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await scratchDir('signer-errors');
      await writeFile(join(dir, 'not-a-key.pem'), 'hello\n');
      await run('openssl', [
        'pkey',
        '-in',
        pki.leaves.rsa.key,
        '-aes256',
        '-passout',
        'pass:secret-key-pw',
        '-out',
        join(dir, 'encrypted.key'),
      ]);
      await run('openssl', [
        'pkcs12',
        '-export',
        '-legacy',
        '-in',
        pki.leaves.rsa.cert,
        '-inkey',
        pki.leaves.rsa.key,
        '-out',
        join(dir, 'rc2.pfx'),
        '-passout',
        `pass:${PFX_PASSWORD}`,
      ]);
    });

    it.each([
      [
        'a missing certificate file',
        () => ({ certificateFile: join(dir, 'nope.pem'), privateKeyFile: pki.leaves.rsa.key }),
        /certificate-file .*nope\.pem: no such file/,
      ],
      [
        'a missing key file',
        () => ({ certificateFile: pki.leaves.rsa.chain, privateKeyFile: join(dir, 'nope.key') }),
        /private-key-file .*nope\.key: no such file/,
      ],
      [
        'a file that is no key',
        () => ({ certificateFile: pki.leaves.rsa.chain, privateKeyFile: join(dir, 'not-a-key.pem') }),
        /not a PEM private key/,
      ],
      [
        'a file that holds no certificate',
        () => ({ certificateFile: pki.leaves.rsa.key, privateKeyFile: pki.leaves.rsa.key }),
        /no PEM CERTIFICATE block/,
      ],
      [
        'an encrypted key',
        () => ({ certificateFile: pki.leaves.rsa.chain, privateKeyFile: join(dir, 'encrypted.key') }),
        /the key is encrypted/,
      ],
      [
        'a key of another certificate',
        () => ({ certificateFile: pki.leaves.ec.chain, privateKeyFile: pki.leaves.rsa.key }),
        /no certificate in it matches the private key/,
      ],
      [
        'RSA-1024',
        () => ({ certificateFile: pki.rsa1024.cert, privateKeyFile: pki.rsa1024.key }),
        /RSA keys of 2048 to 4096 bits/,
      ],
      [
        'a wrong PFX password',
        () => ({ pfxFile: pki.leaves.rsa.pfx, pfxPassword: 'guess-123' }),
        /wrong password for this PFX file/,
      ],
      [
        'a PFX that is not one',
        () => ({ pfxFile: pki.leaves.rsa.cert, pfxPassword: '' }),
        /not a PKCS#12 \(PFX\) file/,
      ],
      [
        'an RC2 PFX',
        () => ({ pfxFile: join(dir, 'rc2.pfx'), pfxPassword: PFX_PASSWORD }),
        /legacy algorithm .* re-export it with AES/,
      ],
    ])('%s', async (_what, options, problem) => {
      const attempt = loadLocalSigner(options());
      await expect(attempt).rejects.toThrow(problem);
      await expect(attempt).rejects.toBeInstanceOf(UserError);
      await attempt.catch((error: Error) => {
        expect(error.message).not.toContain('guess-123');
        expect(error.message).not.toContain(PFX_PASSWORD);
      });
    });
  });
});
