import type { Inputs } from '../config/inputs.js';
import { UserError } from '../errors.js';
import { checkSigningCertificate } from './certificate-checks.js';
import type { KeyStore } from './key-store.js';
import { withCertificates } from './key-store.js';
import { missingLeafIssuer } from './leaf-issuer.js';
import { loadLocalSigner, type LocalKeyOptions } from './local-signer.js';

/** The four ways to give a local key; a pair counts as given when either half is. */
const SOURCES = [
  { name: 'pfx-file', inputs: ['pfx-file'] },
  { name: 'pfx-base64', inputs: ['pfx-base64'] },
  { name: 'certificate-file / private-key-file', inputs: ['certificate-file', 'private-key-file'] },
  { name: 'certificate / private-key', inputs: ['certificate', 'private-key'] },
] as const;

/** A PEM pair with one half missing: names the missing half. */
function missingHalf(missing: string, chain: string, key: string): UserError {
  return new UserError(
    `${missing} is missing: a local PEM key needs both ${chain} (the chain) and ${key}; give it, or use pfx-file or pfx-base64`,
  );
}

function localKey(inputs: Inputs): LocalKeyOptions {
  const given = SOURCES.filter((source) => source.inputs.some((name) => inputs[name]));
  if (given.length > 1) {
    throw new UserError(
      `${given[0].name} and ${given[1].name} both name a local key: give exactly one of ${SOURCES.map((s) => s.name).join(', ')}`,
    );
  }
  const pfxPassword = inputs['pfx-password'] ?? '';
  const { 'pfx-file': pfxFile, 'pfx-base64': pfxBase64 } = inputs;
  if (pfxFile) return { pfxFile, pfxPassword };
  if (pfxBase64) return { pfxBase64, pfxPassword };
  const { 'certificate-file': certificateFile, 'private-key-file': privateKeyFile } = inputs;
  const { certificate, 'private-key': privateKey } = inputs;
  if (certificateFile && privateKeyFile) return { certificateFile, privateKeyFile };
  if (certificate && privateKey) return { certificate, privateKey };
  if (certificateFile) throw missingHalf('private-key-file', 'certificate-file', 'private-key-file');
  if (privateKeyFile) throw missingHalf('certificate-file', 'certificate-file', 'private-key-file');
  if (certificate) throw missingHalf('private-key', 'certificate', 'private-key');
  throw missingHalf('certificate', 'certificate', 'private-key');
}

/** A key in a local file or in secrets (PEM or PKCS#12): for development, tests and self-hosted internal signing. */
export const localKeyStore: KeyStore = {
  name: 'a local key',
  inputs: ['certificate-file', 'private-key-file', 'pfx-file', 'pfx-base64', 'certificate', 'private-key'],
  configure(inputs) {
    const options = localKey(inputs);
    return {
      async open({ additionalCertificates }) {
        const loaded = await loadLocalSigner(options);
        const certificates = withCertificates(loaded.certificates, additionalCertificates);
        const certificate = checkSigningCertificate(certificates[0], 'the local signing certificate');
        const missing = missingLeafIssuer(certificates);
        return {
          signer: {
            async signDigest(hash, digest, signal) {
              return { signature: (await loaded.signDigest(hash, digest, signal)).signature, certificates };
            },
          },
          certificate,
          warnings: missing ? [missing] : [],
          description: 'local key',
        };
      },
    };
  },
};
