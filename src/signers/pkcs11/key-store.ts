import { createHash, randomBytes, type X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import type { Inputs } from '../../config/inputs.js';
import { UserError } from '../../errors.js';
import { checkSigningCertificate } from '../certificate-checks.js';
import {
  curveOf,
  ecdsaDerFromRaw,
  rsaDigestInfo,
  SCALAR_BYTES,
  verifyDigestSignature,
  type CurveName,
} from '../digest-signature.js';
import { withCertificates, type KeyStore } from '../key-store.js';
import { missingLeafIssuer } from '../leaf-issuer.js';
import { certificatesFrom, readInput } from '../local-signer.js';
import { loadPkcs11Binding, type Pkcs11Binding } from './binding.js';
import { openTokenSession, type TokenSession, type TokenSettings } from './token.js';

function slotOf(value: string): bigint {
  if (!/^(\d+|0x[0-9a-f]+)$/i.test(value.trim()))
    throw new UserError(`pkcs11-slot: "${value}" is not a slot ID (a number, decimal or 0x hex)`);
  return BigInt(value.trim());
}

function keyIdOf(value: string): Buffer {
  const hex = value.replace(/[\s:]/g, '');
  if (!/^([0-9a-f]{2})+$/i.test(hex))
    throw new UserError(
      `pkcs11-key-id: "${value}" is not hex (e.g. 01 or 3a5f…, as pkcs11-tool --list-objects shows it)`,
    );
  return Buffer.from(hex, 'hex');
}

function settingsOf(inputs: Inputs): TokenSettings {
  const module = inputs['pkcs11-module'];
  if (!module) {
    throw new UserError(
      "pkcs11-module is missing: PKCS#11 signing needs the path of the token's PKCS#11 library (e.g. /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so, C:\\Windows\\System32\\eTPKCS11.dll)",
    );
  }
  const keyId = inputs['pkcs11-key-id'];
  const keyLabel = inputs['pkcs11-key-label'];
  if (!keyId && !keyLabel)
    throw new UserError('pkcs11-key-id or pkcs11-key-label is missing: name the private key on the token');
  return {
    module,
    slot: inputs['pkcs11-slot'] ? slotOf(inputs['pkcs11-slot']) : undefined,
    tokenLabel: inputs['pkcs11-token-label'] || undefined,
    keyId: keyId ? keyIdOf(keyId) : undefined,
    keyLabel: keyLabel || undefined,
    pin: inputs['pkcs11-pin'] || undefined,
  };
}

/** The PIN from pkcs11-pin-file: its first line, masked before any use. */
async function pinFromFile(path: string, mask: (secret: string) => void): Promise<string> {
  const [pin = ''] = (await readInput(path, 'pkcs11-pin-file')).toString('utf8').split(/\r?\n/);
  if (!pin) throw new UserError(`pkcs11-pin-file ${path}: its first line is empty; write the PIN there`);
  mask(pin);
  return pin;
}

/** How a digest becomes a token signature, as CMS carries it. */
type DigestSigner = (hash: HashAlgorithm, digest: Buffer, signal?: AbortSignal) => Promise<Buffer>;

function digestSigner(
  binding: Pkcs11Binding,
  token: TokenSession,
  certificate: X509Certificate,
): DigestSigner {
  if (token.keyType === 'RSA') {
    // CKM_RSA_PKCS pads what it is given: the DigestInfo, so the token does not hash again.
    return (hash, digest, signal) => token.sign(binding.CKM_RSA_PKCS, rsaDigestInfo(hash, digest), signal);
  }
  const curve: CurveName | undefined = curveOf(certificate.publicKey);
  if (!curve)
    throw new UserError(`${token.description}: the certificate's key is not on P-256, P-384 or P-521`);
  // ECDSA uses the digest's leftmost bits, as many as the order has: cut here, since some tokens refuse longer input.
  return async (_hash, digest, signal) =>
    ecdsaDerFromRaw(
      curve,
      await token.sign(binding.CKM_ECDSA, digest.subarray(0, SCALAR_BYTES[curve]), signal),
      token.description,
    );
}

/** The certificates of certificate-file, read before the token is opened (a wrong path costs no login). */
async function certificateFile(inputs: Inputs): Promise<Buffer[] | undefined> {
  const file = inputs['certificate-file'];
  return file
    ? certificatesFrom(await readInput(file, 'certificate-file'), `certificate-file ${file}`)
    : undefined;
}

/** The certificate chain: certificate-file's when given, else the token's certificate with the key's id. */
function chainOf(
  fromFile: Buffer[] | undefined,
  token: TokenSession,
  additional?: readonly Buffer[],
): Buffer[] {
  const own = fromFile ?? (token.certificate ? [token.certificate] : undefined);
  if (!own) {
    throw new UserError(
      `${token.description}: the token holds no certificate with the key's CKA_ID; give it as certificate-file`,
    );
  }
  return withCertificates(own, additional);
}

/**
 * A key on a USB token or HSM, through the vendor's PKCS#11 library: one session and one login for
 * the run. The token, the key, the certificate and the key's match with it are checked by a probe
 * signature before any file is touched.
 */
export const pkcs11KeyStore: KeyStore = {
  name: 'a PKCS#11 token',
  inputs: ['pkcs11-module', 'pkcs11-slot', 'pkcs11-token-label', 'pkcs11-key-id', 'pkcs11-key-label'],
  borrows: ['certificate-file'],
  configure(inputs) {
    const configured = settingsOf(inputs);
    const pinFile = inputs['pkcs11-pin-file'];
    if (pinFile && configured.pin)
      throw new UserError('pkcs11-pin and pkcs11-pin-file are both given: give the PIN one way');
    return {
      async open({ additionalCertificates, mask }) {
        const settings = pinFile ? { ...configured, pin: await pinFromFile(pinFile, mask) } : configured;
        const source = inputs['certificate-file']
          ? `certificate-file ${inputs['certificate-file']}`
          : 'the token';
        const kind = await stat(settings.module).then(
          (s) => (s.isFile() ? undefined : 'not a file'),
          (error: NodeJS.ErrnoException) =>
            error.code === 'ENOENT' ? 'no such file' : `cannot read it (${error.code})`,
        );
        if (kind) {
          throw new UserError(
            `pkcs11-module ${settings.module}: ${kind}; give the path of the token's PKCS#11 library (installed with its driver)`,
          );
        }
        const fromFile = await certificateFile(inputs);
        const binding = await loadPkcs11Binding();
        const token = openTokenSession(binding, settings);
        try {
          const certificates = chainOf(fromFile, token, additionalCertificates);
          const certificate = checkSigningCertificate(certificates[0], `the certificate from ${source}`);
          const type = certificate.publicKey.asymmetricKeyType;
          if (type !== token.keyType.toLowerCase()) {
            const held = type === 'rsa' || type === 'ec' ? type.toUpperCase() : type;
            throw new UserError(
              `${token.description} is an ${token.keyType} key, the certificate from ${source} holds an ${held} key: they do not match; give the certificate of that key`,
            );
          }
          const sign = digestSigner(binding, token, certificate);
          const probe = createHash('sha256').update(randomBytes(32)).digest();
          if (!verifyDigestSignature(certificate.publicKey, 'sha256', probe, await sign('sha256', probe))) {
            throw new UserError(
              `${token.description} does not match the certificate from ${source}: give the certificate of that key`,
            );
          }
          const missing = missingLeafIssuer(certificates);
          return {
            signer: {
              signDigest: async (hash, digest, signal) => ({
                signature: await sign(hash, digest, signal),
                certificates,
              }),
            },
            certificate,
            warnings: missing ? [missing] : [],
            description: `PKCS#11 ${token.description}`,
            close: () => token.close(),
          };
        } catch (error) {
          await token.close();
          throw error;
        }
      },
    };
  },
};
