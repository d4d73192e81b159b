import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { scratchDir } from './pe-fixtures.js';

const run = promisify(execFile);

/** The real PKCS#11 module of the Debian softhsm2 package. */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
/** OpenSC's pkcs11-spy: a PKCS#11 module that forwards every call to PKCS11SPY and logs it to PKCS11SPY_OUTPUT. */
export const PKCS11_SPY = '/usr/lib/x86_64-linux-gnu/pkcs11-spy.so';

export interface TokenKey {
  readonly label: string;
  /** CKA_ID in hex. */
  readonly id: string;
  /** PKCS#8 PEM private key to import; or `generate`. */
  readonly key?: string;
  /** A key pair the token generates, as pkcs11-tool --key-type names it (e.g. EC:edwards25519). */
  readonly generate?: string;
  /** PEM certificate stored on the token with the key's id. */
  readonly certificate?: string;
  /** Sets CKA_ALWAYS_AUTHENTICATE: the key wants the PIN again for each signature. */
  readonly alwaysAuthenticate?: boolean;
}

export interface SoftHsmToken {
  readonly label: string;
  readonly pin: string;
  /** SOFTHSM2_CONF for the processes that use the token. */
  readonly env: { SOFTHSM2_CONF: string };
  readonly dir: string;
  /** Its slot ID (SoftHSM2 gives an initialized token a new one). */
  readonly slot: string;
}

/**
 * A fresh SoftHSM2 token in a scratch folder (its own config and token directory), holding `keys`;
 * imported with softhsm2-util and OpenSC's pkcs11-tool, never with vaultsign's code.
 */
export async function softHsmToken(
  label: string,
  pin: string,
  keys: readonly TokenKey[],
): Promise<SoftHsmToken> {
  const dir = await scratchDir(`softhsm-${label}`);
  await mkdir(join(dir, 'tokens'));
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(
    conf,
    `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const { stdout } = await run(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', `so-${pin}`],
    { env },
  );
  const slot = /reassigned to slot (\d+)/.exec(stdout)?.[1];
  if (!slot) throw new Error(`softhsm2-util did not say the token's slot: ${stdout}`);
  const tool = (...args: string[]) =>
    run(
      'pkcs11-tool',
      ['--module', SOFTHSM_MODULE, '--token-label', label, '--login', '--pin', pin, ...args],
      { env },
    );
  for (const key of keys) {
    if (key.generate) {
      await tool('--keypairgen', '--key-type', key.generate, '--id', key.id, '--label', key.label);
    } else if (key.alwaysAuthenticate) {
      await tool(
        '--write-object',
        key.key!,
        '--type',
        'privkey',
        '--id',
        key.id,
        '--label',
        key.label,
        '--always-auth',
      );
    } else {
      await run(
        'softhsm2-util',
        ['--import', key.key!, '--token', label, '--label', key.label, '--id', key.id, '--pin', pin],
        { env },
      );
    }
    if (key.certificate) {
      const der = join(dir, `${key.id}.der`);
      await writeFile(der, new X509Certificate(await readFile(key.certificate)).raw);
      await tool('--write-object', der, '--type', 'cert', '--id', key.id, '--label', key.label);
    }
  }
  return { label, pin, env: { SOFTHSM2_CONF: conf }, dir, slot };
}

/** The environment that makes PKCS11_SPY forward to SoftHSM2 and log every call to `log`. */
export function spyEnv(token: SoftHsmToken, log: string): NodeJS.ProcessEnv {
  return { ...token.env, PKCS11SPY: SOFTHSM_MODULE, PKCS11SPY_OUTPUT: log };
}

/** The PKCS#11 calls in a pkcs11-spy log, in order, each with its user type (C_Login) and result. */
export async function spyCalls(log: string): Promise<{ name: string; userType?: string; result?: string }[]> {
  const calls: { name: string; userType?: string; result?: string }[] = [];
  for (const line of (await readFile(log, 'utf8')).split('\n')) {
    const call = /^\d+: (C_\w+)/.exec(line);
    if (call) calls.push({ name: call[1] });
    const userType = /userType = (\w+)/.exec(line);
    if (userType && calls.length) calls[calls.length - 1].userType = userType[1];
    const result = /^Returned:\s+\d+ (\w+)/.exec(line);
    if (result && calls.length) calls[calls.length - 1].result ??= result[1];
  }
  return calls;
}

/** Whether each call in the log returned before the next one started (no two token calls overlapped). */
export async function spyCallsSerial(log: string): Promise<boolean> {
  let open = false;
  for (const line of (await readFile(log, 'utf8')).split('\n')) {
    if (/^\d+: C_\w+/.test(line)) {
      if (open) return false;
      open = true;
    } else if (/^Returned:/.test(line)) open = false;
  }
  return true;
}
