// A key on a token, through the real PKCS#11 module of SoftHSM2 (keys imported with softhsm2-util and
// pkcs11-tool), run as users run vaultsign: the shipped CLI and Action bundles; osslsigncode judges.
import { createHash, verify, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { chooseKeyStore } from '../src/signers/key-stores.js';
import { expectOsslVerified, osslVerify } from '../test/osslsigncode.js';
import { copyFixture, ensurePeFixtures, scratchDir, type PeFixture } from '../test/pe-fixtures.js';
import { ensureTestPki, type TestPki } from '../test/pki.js';
import { runAction } from '../test/run-action.js';
import { runCli } from '../test/run-cli.js';
import { shippedDist } from '../test/shipped-dist.js';
import {
  PKCS11_SPY,
  SOFTHSM_MODULE,
  softHsmToken,
  spyCalls,
  spyCallsSerial,
  spyEnv,
  type SoftHsmToken,
} from '../test/softhsm.js';
import { transpiled } from '../test/transpiled.js';

const PIN = '482913';
const WRONG_PIN = '771044';
const DEBUG = { ACTIONS_STEP_DEBUG: 'true', RUNNER_DEBUG: '1' };

let pki: TestPki;
let fixtures: PeFixture[];
let token: SoftHsmToken;

beforeAll(async () => {
  [pki, fixtures] = await Promise.all([ensureTestPki(), ensurePeFixtures()]);
  token = await softHsmToken('vaultsign-test', PIN, [
    // RSA with its certificate on the token; EC without (the certificate comes from a file).
    { label: 'rsa-key', id: '01', key: pki.leaves.rsa.key, certificate: pki.leaves.rsa.cert },
    { label: 'ec-key', id: '02', key: pki.leaves.ec.key },
    { label: 'always-key', id: '03', key: pki.leaves.rsa.key, alwaysAuthenticate: true },
    { label: 'ed-key', id: '04', generate: 'EC:edwards25519' },
  ]);
}, 300_000);

/** Copies of a 64-bit exe and a 32-bit dll (`count` files in all), and their bytes before signing. */
async function someFiles(label: string, count = 2): Promise<{ files: string[]; before: Buffer[] }> {
  const dir = await scratchDir(label);
  const exe = fixtures.find((f) => f.kind === 'exe' && f.bits === 64 && !f.overlay)!;
  const dll = fixtures.find((f) => f.kind === 'dll' && f.bits === 32 && !f.overlay)!;
  const files = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      copyFixture(i % 2 ? dll : exe, dir, `file${i}.${i % 2 ? 'dll' : 'exe'}`),
    ),
  );
  return { files, before: await Promise.all(files.map((f) => readFile(f))) };
}

async function expectUnchanged({ files, before }: { files: string[]; before: Buffer[] }): Promise<void> {
  for (const [i, file] of files.entries()) expect((await readFile(file)).equals(before[i])).toBe(true);
}

const expectVerified = (files: readonly string[]) => expectOsslVerified(files, pki.rootCa);

/** CLI flags naming the test token's key; the PIN goes through VAULTSIGN_PKCS11_PIN. */
const tokenFlags = (module = SOFTHSM_MODULE) => [
  'sign',
  '--pkcs11-module',
  module,
  '--pkcs11-token-label',
  token.label,
  '--timestamp-rfc3161',
  'none',
];

const cliEnv = (pin = PIN, extra: NodeJS.ProcessEnv = token.env) => ({
  env: { ...extra, VAULTSIGN_PKCS11_PIN: pin },
});

describe('PKCS#11 through the CLI', () => {
  it('signs with an RSA key and the certificate stored on the token; osslsigncode verifies', async () => {
    const set = await someFiles('pkcs11-rsa');
    const run = await runCli(
      [
        ...tokenFlags(),
        '--pkcs11-key-label',
        'rsa-key',
        '--additional-certificates',
        pki.intermediateCa,
        ...set.files,
      ],
      cliEnv(),
    );
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/2 signed, 0 skipped, 0 failed/);
    expect(run.stdout + run.stderr).toMatch(
      /with PKCS#11 key "rsa-key" \(id 01\) on the token "vaultsign-test" \(slot \d+\)/,
    );
    await expectVerified(set.files);
  });

  it('signs with an EC P-256 key by its id, the certificate from certificate-file, SHA-384 digests', async () => {
    const set = await someFiles('pkcs11-ec');
    const run = await runCli(
      [
        ...tokenFlags(),
        '--pkcs11-key-id',
        '02',
        '--certificate-file',
        pki.leaves.ec.chain,
        '--file-digest',
        'sha384',
        ...set.files,
      ],
      cliEnv(),
    );
    expect(run.code).toBe(0);
    await expectVerified(set.files);
    const verdict = await osslVerify(set.files[0], pki.rootCa);
    expect(verdict.output).toMatch(/sha384/i);
  });

  it('finds the token by its slot ID, given in hex', async () => {
    const set = await someFiles('pkcs11-slot');
    const flags = tokenFlags().filter((f) => f !== '--pkcs11-token-label' && f !== token.label);
    const slot = `0x${BigInt(token.slot).toString(16)}`;
    const run = await runCli(
      [
        ...flags,
        '--pkcs11-slot',
        slot,
        '--pkcs11-key-label',
        'rsa-key',
        '--additional-certificates',
        pki.intermediateCa,
        ...set.files,
      ],
      cliEnv(),
    );
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).toContain(`on the token "vaultsign-test" (slot ${token.slot})`);
    await expectVerified(set.files);
  });

  it('signs with a CKA_ALWAYS_AUTHENTICATE key: a context-specific login before each signature', async () => {
    const set = await someFiles('pkcs11-always', 3);
    const log = join(await scratchDir('pkcs11-spy'), 'spy.log');
    const run = await runCli(
      [
        ...tokenFlags(PKCS11_SPY),
        '--pkcs11-key-id',
        '03',
        '--certificate-file',
        pki.leaves.rsa.chain,
        ...set.files,
      ],
      cliEnv(PIN, spyEnv(token, log)),
    );
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    await expectVerified(set.files);
    const calls = await spyCalls(log);
    const logins = calls.filter((c) => c.name === 'C_Login').map((c) => `${c.userType} ${c.result}`);
    // One user login, then one per signature: the start-up probe and the three files.
    expect(logins).toEqual(['CKU_USER CKR_OK', ...Array(4).fill('CKU_CONTEXT_SPECIFIC CKR_OK')]);
  });

  it('signs 40 files at concurrency 8 with every token call made one at a time', async () => {
    const set = await someFiles('pkcs11-many', 40);
    const log = join(await scratchDir('pkcs11-spy'), 'spy.log');
    const started = performance.now();
    const run = await runCli(
      [
        ...tokenFlags(PKCS11_SPY),
        '--pkcs11-key-label',
        'rsa-key',
        '--concurrency',
        '8',
        '--additional-certificates',
        pki.intermediateCa,
        ...set.files,
      ],
      cliEnv(PIN, spyEnv(token, log)),
    );
    const seconds = (performance.now() - started) / 1000;
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/40 signed, 0 skipped, 0 failed/);
    await expectVerified(set.files);
    const calls = await spyCalls(log);
    expect(calls.filter((c) => c.name === 'C_Sign')).toHaveLength(41);
    expect(calls.filter((c) => c.name === 'C_Sign' && c.result !== 'CKR_OK')).toEqual([]);
    expect(calls.filter((c) => c.name === 'C_Login')).toHaveLength(1);
    expect(calls.filter((c) => c.name === 'C_OpenSession')).toHaveLength(1);
    expect(calls.at(-1)?.name).toBe('C_Finalize');
    expect(await spyCallsSerial(log)).toBe(true);
    console.log(
      `PKCS#11 (SoftHSM2 through pkcs11-spy): 40 files at concurrency 8 in ${seconds.toFixed(2)} s, CLI start included`,
    );
  });

  it('stops at the first PIN refusal: one login attempt, a clear error, every file as it was', async () => {
    const set = await someFiles('pkcs11-wrong-pin');
    const log = join(await scratchDir('pkcs11-spy'), 'spy.log');
    const run = await runCli(
      [
        ...tokenFlags(PKCS11_SPY),
        '--pkcs11-key-label',
        'rsa-key',
        '--additional-certificates',
        pki.intermediateCa,
        ...set.files,
      ],
      cliEnv(WRONG_PIN, spyEnv(token, log)),
    );
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/refused the PIN \(pkcs11-pin; CKR_PIN_INCORRECT\)/);
    expect(run.stderr).toMatch(/tried once and not again: tokens lock their PIN after a few wrong tries/);
    expect(run.stdout + run.stderr).not.toContain(WRONG_PIN);
    await expectUnchanged(set);
    const logins = (await spyCalls(log)).filter((c) => c.name === 'C_Login');
    expect(logins.map((c) => c.result)).toEqual(['CKR_PIN_INCORRECT']);
    expect((await spyCalls(log)).filter((c) => c.name.startsWith('C_Sign'))).toEqual([]);
  });

  it.each([
    [
      'a key label not on the token',
      ['--pkcs11-key-label', 'no-such-key'],
      /pkcs11-key-label "no-such-key": no such private key on the token "vaultsign-test" \(slot \d+\); its private keys are .*"rsa-key" \(id 01\)/,
    ],
    [
      'a module path that does not exist',
      ['--pkcs11-module', '/nonexistent/libvendor-pkcs11.so', '--pkcs11-key-label', 'rsa-key'],
      /pkcs11-module \/nonexistent\/libvendor-pkcs11.so: no such file; give the path of the token's PKCS#11 library/,
    ],
    [
      'a file that is not a PKCS#11 library',
      ['--pkcs11-module', '/etc/hostname', '--pkcs11-key-label', 'rsa-key'],
      /pkcs11-module \/etc\/hostname: cannot be loaded as a PKCS#11 library/,
    ],
    [
      'a token label no token has',
      ['--pkcs11-token-label', 'other-token', '--pkcs11-key-label', 'rsa-key'],
      /pkcs11-token-label "other-token": no such token in .*libsofthsm2.so; the tokens present are "vaultsign-test" \(slot \d+\)/,
    ],
    [
      'a slot with no token',
      ['--pkcs11-slot', '4242', '--pkcs11-key-label', 'rsa-key'],
      /pkcs11-slot 4242 with pkcs11-token-label "vaultsign-test": no such token in .*; the tokens present are "vaultsign-test" \(slot \d+\)/,
    ],
    [
      'a certificate-file that does not exist',
      ['--pkcs11-key-label', 'rsa-key', '--certificate-file', '/nonexistent/cert.pem'],
      /certificate-file \/nonexistent\/cert.pem: no such file/,
    ],
    [
      'a certificate of another key',
      ['--pkcs11-key-label', 'rsa-key', '--certificate-file', 'RSA4096'],
      /key "rsa-key" \(id 01\) on the token "vaultsign-test" \(slot \d+\) does not match the certificate from certificate-file/,
    ],
    [
      'an RSA key with an EC certificate',
      ['--pkcs11-key-label', 'rsa-key', '--certificate-file', 'EC'],
      /key "rsa-key" \(id 01\) on the token "vaultsign-test" \(slot \d+\) is an RSA key, the certificate from certificate-file .* holds an EC key: they do not match/,
    ],
    [
      'a key that is neither RSA nor EC',
      ['--pkcs11-key-label', 'ed-key', '--certificate-file', 'EC'],
      /key "ed-key" \(id 04\) on the token "vaultsign-test" \(slot \d+\) is not an RSA or EC key \(CKA_KEY_TYPE \d+\); vaultsign signs with RSA or EC keys/,
    ],
    [
      'an EC key whose certificate is not on the token',
      ['--pkcs11-key-label', 'ec-key'],
      /key "ec-key" \(id 02\) on the token "vaultsign-test" \(slot \d+\): the token holds no certificate with the key's CKA_ID; give it as certificate-file/,
    ],
  ])('refuses %s before touching any file', async (_what, flags, message) => {
    const set = await someFiles('pkcs11-refused');
    const resolved = flags.map((f) =>
      f === 'RSA4096' ? pki.leaves.rsa4096.chain : f === 'EC' ? pki.leaves.ec.chain : f,
    );
    const run = await runCli([...tokenFlags(), ...resolved, ...set.files], cliEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout + run.stderr).not.toContain(PIN);
    await expectUnchanged(set);
  });
});

describe('PKCS#11 through the Action', () => {
  it('signs with the PIN masked before any use, and the log never shows it with debug on', async () => {
    const set = await someFiles('pkcs11-action');
    const run = await runAction(
      {
        'pkcs11-module': SOFTHSM_MODULE,
        'pkcs11-token-label': token.label,
        'pkcs11-key-id': '01',
        'pkcs11-pin': PIN,
        'additional-certificates': pki.intermediateCa,
        files: set.files.join('\n'),
        'timestamp-rfc3161': 'none',
      },
      { ...token.env, ...DEBUG },
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.outputs['signed-files'])).toHaveLength(2);
    await expectVerified(set.files);
    expect(run.log).toContain(`::add-mask::${PIN}`);
    expect(run.log.split('\n').filter((line) => line.includes(PIN) && line !== `::add-mask::${PIN}`)).toEqual(
      [],
    );
  });

  it('reads the PIN from pkcs11-pin-file, masks it before use, and refuses it next to pkcs11-pin', async () => {
    const set = await someFiles('pkcs11-pin-file');
    const pinFile = join(await scratchDir('pkcs11-pin'), 'pin.txt');
    await writeFile(pinFile, `${PIN}\r\n`, { mode: 0o600 });
    const inputs = {
      'pkcs11-module': SOFTHSM_MODULE,
      'pkcs11-key-label': 'rsa-key',
      'pkcs11-pin-file': pinFile,
      'additional-certificates': pki.intermediateCa,
      files: set.files.join('\n'),
      'timestamp-rfc3161': 'none',
    };
    const both = await runAction({ ...inputs, 'pkcs11-pin': PIN }, { ...token.env, ...DEBUG });
    expect(both.code).not.toBe(0);
    expect(both.log).toMatch(/pkcs11-pin and pkcs11-pin-file are both given/);
    await expectUnchanged(set);
    const run = await runAction(inputs, { ...token.env, ...DEBUG });
    expect(run.code).toBe(0);
    await expectVerified(set.files);
    const lines = run.log.split('\n');
    const maskAt = lines.indexOf(`::add-mask::${PIN}`);
    expect(maskAt).toBeGreaterThanOrEqual(0);
    expect(lines.filter((line) => line.includes(PIN) && line !== `::add-mask::${PIN}`)).toEqual([]);
  });

  it('reports a refused PIN as the step failure, files untouched, the wrong PIN masked', async () => {
    const set = await someFiles('pkcs11-action-pin');
    const run = await runAction(
      {
        'pkcs11-module': SOFTHSM_MODULE,
        'pkcs11-key-label': 'rsa-key',
        'pkcs11-pin': WRONG_PIN,
        files: set.files.join('\n'),
        'timestamp-rfc3161': 'none',
      },
      { ...token.env, ...DEBUG },
    );
    expect(run.code).not.toBe(0);
    expect(run.log).toMatch(/::error.*refused the PIN/);
    expect(
      run.log.split('\n').filter((line) => line.includes(WRONG_PIN) && !line.startsWith('::add-mask::')),
    ).toEqual([]);
    await expectUnchanged(set);
  });
});

describe('a bundle whose native PKCS#11 binding cannot load (another OS)', () => {
  it('still starts, CLI and Action, and signs with other key stores; PKCS#11 inputs get a clear error', async () => {
    const { cli } = await shippedDist();
    const copy = await scratchDir('no-binding');
    await cp(join(cli, '..'), copy, { recursive: true });
    await rm(join(copy, 'cli', 'build'), { recursive: true });
    await rm(join(copy, 'index', 'build'), { recursive: true });
    const set = await someFiles('pkcs11-no-binding');
    const runner = {
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: join(copy, 'output'),
      GITHUB_STEP_SUMMARY: join(copy, 'summary'),
    };
    await Promise.all([writeFile(runner.GITHUB_OUTPUT, ''), writeFile(runner.GITHUB_STEP_SUMMARY, '')]);
    const node = (entry: string, args: string[], env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number; log: string }>((resolve) =>
        execFile(
          process.execPath,
          [join(copy, entry), ...args],
          { env: { ...process.env, ...token.env, ...env } },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, log: stdout + stderr }),
        ),
      );
    const cannotLoad = `PKCS#11 signing cannot start: the native pkcs11js binding did not load on ${process.platform}-${process.arch} (`;
    const refused = await node('cli.js', [...tokenFlags(), '--pkcs11-key-label', 'rsa-key', ...set.files], {
      VAULTSIGN_PKCS11_PIN: PIN,
    });
    expect(refused.code).toBe(2);
    expect(refused.log).toContain(cannotLoad);
    expect(refused.log).toContain('PKCS#11 needs that binding built for this OS and architecture');
    // The Action as the runner starts it: inputs as INPUT_ variables.
    const action = await node('index.js', [], {
      ...runner,
      'INPUT_PKCS11-MODULE': SOFTHSM_MODULE,
      'INPUT_PKCS11-KEY-LABEL': 'rsa-key',
      'INPUT_PKCS11-PIN': PIN,
      INPUT_FILES: set.files.join('\n'),
      'INPUT_TIMESTAMP-RFC3161': 'none',
    });
    expect(action.code).not.toBe(0);
    expect(action.log).toContain(`::error::${cannotLoad}`);
    await expectUnchanged(set);
    const local = await node('index.js', [], {
      ...runner,
      'INPUT_CERTIFICATE-FILE': pki.leaves.rsa.chain,
      'INPUT_PRIVATE-KEY-FILE': pki.leaves.rsa.key,
      INPUT_FILES: set.files[0],
      'INPUT_TIMESTAMP-RFC3161': 'none',
    });
    expect(local.code).toBe(0);
    expect(await readFile(runner.GITHUB_OUTPUT, 'utf8')).toMatch(/^signed-count<<.*\n1\n/m);
    const signed = await node(
      'cli.js',
      [
        'sign',
        '--certificate-file',
        pki.leaves.rsa.chain,
        '--private-key-file',
        pki.leaves.rsa.key,
        '--timestamp-rfc3161',
        'none',
        set.files[1],
      ],
      {},
    );
    expect(signed.code).toBe(0);
    await expectVerified(set.files);
  });
});

describe('one token session', () => {
  it('takes 50 signatures asked at once one after another: all verify, no two token calls overlap', async () => {
    const dir = await transpiled([
      'src/errors.ts',
      'src/signers/pkcs11/binding.ts',
      'src/signers/pkcs11/token.ts',
    ]);
    const log = join(dir, 'spy.log');
    const data = Array.from({ length: 50 }, (_, i) => Buffer.from(`file ${i}`));
    // PKCS#1 v1.5 over SHA-256: the DigestInfo prefix (RFC 8017 §9.2) and the hash.
    const prefix = Buffer.from('3031300d060960864801650304020105000420', 'hex');
    const hashed = data.map((d) =>
      Buffer.concat([prefix, createHash('sha256').update(d).digest()]).toString('hex'),
    );
    const script = `
      import { loadPkcs11Binding } from './src/signers/pkcs11/binding.js';
      import { openTokenSession } from './src/signers/pkcs11/token.js';
      const [settings, hashed] = JSON.parse(process.argv[1]);
      const binding = await loadPkcs11Binding();
      const session = openTokenSession(binding, settings);
      try {
        const signatures = await Promise.all(hashed.map((h) => session.sign(binding.CKM_RSA_PKCS, Buffer.from(h, 'hex'))));
        console.log(JSON.stringify(signatures.map((s) => s.toString('hex'))));
      } finally {
        await session.close();
      }`;
    const settings = { module: PKCS11_SPY, tokenLabel: token.label, keyLabel: 'rsa-key', pin: PIN };
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--input-type=module', '-e', script, JSON.stringify([settings, hashed])],
      { cwd: dir, env: { ...process.env, ...spyEnv(token, log) } },
    );
    const signatures = (JSON.parse(stdout) as string[]).map((hex) => Buffer.from(hex, 'hex'));
    const key = new X509Certificate(await readFile(pki.leaves.rsa.cert)).publicKey;
    expect(signatures.map((sig, i) => verify('sha256', data[i], key, sig))).toEqual(data.map(() => true));
    expect(await spyCallsSerial(log)).toBe(true);
    expect((await spyCalls(log)).filter((c) => c.name === 'C_Sign')).toHaveLength(50);
  });
});

describe('choosing the PKCS#11 key store', () => {
  it('takes certificate-file as its own certificate, yet names two key stores with a local private key', () => {
    const pkcs11 = { 'pkcs11-module': SOFTHSM_MODULE, 'pkcs11-key-id': '01', 'certificate-file': 'c.pem' };
    expect(chooseKeyStore(pkcs11, []).store.name).toBe('a PKCS#11 token');
    expect(() => chooseKeyStore({ ...pkcs11, 'private-key-file': 'k.pem' }, [])).toThrow(
      /name 2 key stores: a local key \(certificate-file, private-key-file\) and a PKCS#11 token \(pkcs11-module, pkcs11-key-id\)/,
    );
    expect(() => chooseKeyStore({ 'pkcs11-token-label': 't', 'pkcs11-key-id': '01' }, [])).toThrow(
      /pkcs11-module is missing/,
    );
    expect(() => chooseKeyStore({ 'pkcs11-module': SOFTHSM_MODULE, 'pkcs11-key-id': 'xyz' }, [])).toThrow(
      /pkcs11-key-id: "xyz" is not hex/,
    );
  });
});
