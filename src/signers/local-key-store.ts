import type { Inputs } from '../config/inputs.js';
import { UserError } from '../errors.js';
import { checkSigningCertificate } from './certificate-checks.js';
import type { KeyStore } from './key-store.js';
import { withCertificates } from './key-store.js';
import { missingLeafIssuer } from './leaf-issuer.js';
import { loadLocalSigner, type LocalKeyOptions } from './local-signer.js';

function localKey(inputs: Inputs): LocalKeyOptions {
  const certificateFile = inputs['certificate-file'];
  const privateKeyFile = inputs['private-key-file'];
  const pfxFile = inputs['pfx-file'];
  if (pfxFile && (certificateFile || privateKeyFile)) {
    throw new UserError(
      'pfx-file and certificate-file / private-key-file both name a local key: give either pfx-file, or certificate-file with private-key-file, not both',
    );
  }
  if (pfxFile) return { pfxFile, pfxPassword: inputs['pfx-password'] ?? '' };
  if (certificateFile && privateKeyFile) return { certificateFile, privateKeyFile };
  throw new UserError(
    `${certificateFile ? 'private-key-file' : 'certificate-file'} is missing: a local PEM key needs both certificate-file (the chain) and private-key-file; give it, or use pfx-file`,
  );
}

/** A key in a local file (PEM or PKCS#12): for development, tests and self-hosted internal signing. */
export const localKeyStore: KeyStore = {
  name: 'a local key',
  inputs: ['certificate-file', 'private-key-file', 'pfx-file'],
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
