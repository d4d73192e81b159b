export const id = 275;
export const ids = [275];
export const modules = {

/***/ 5275:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

// ESM COMPAT FLAG
__webpack_require__.r(__webpack_exports__);

// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  loadKeyVaultSigner: () => (/* binding */ loadKeyVaultSigner)
});

// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./node_modules/@azure/keyvault-certificates/dist/esm/index.js + 23 modules
var esm = __webpack_require__(4177);
// EXTERNAL MODULE: ./node_modules/@azure/keyvault-keys/dist/esm/index.js + 26 modules
var dist_esm = __webpack_require__(5732);
// EXTERNAL MODULE: ./node_modules/@noble/curves/nist.js + 6 modules
var nist = __webpack_require__(534);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
;// CONCATENATED MODULE: ./src/pipeline/adaptive-limit.ts
/**
 * A concurrency limit that halves when the service throttles and creeps back up as calls succeed
 * (additive increase, multiplicative decrease), so a rate-limited vault is used near its rate.
 */
class AdaptiveLimit {
    max;
    limit;
    active = 0;
    successes = 0;
    lastCut = 0;
    waiting = [];
    constructor(max) {
        this.max = max;
        this.limit = max;
    }
    get current() {
        return this.limit;
    }
    async run(work) {
        while (this.active >= this.limit)
            await new Promise((resolve) => this.waiting.push(resolve));
        this.active++;
        try {
            return await work();
        }
        finally {
            this.active--;
            this.waiting.shift()?.();
        }
    }
    /** One cut per second at most: a burst of 429s from one overload is one signal. */
    throttled(now = Date.now()) {
        if (now - this.lastCut < 1000)
            return;
        this.lastCut = now;
        this.limit = Math.max(1, Math.floor(this.limit / 2));
        this.successes = 0;
    }
    succeeded() {
        if (this.limit >= this.max)
            return;
        if (++this.successes >= this.limit) {
            this.successes = 0;
            this.limit++;
            this.waiting.shift()?.();
        }
    }
}

// EXTERNAL MODULE: ./src/signers/certificate-checks.ts + 1 modules
var certificate_checks = __webpack_require__(8909);
// EXTERNAL MODULE: ./src/signers/digest-signature.ts
var digest_signature = __webpack_require__(2792);
;// CONCATENATED MODULE: ./src/signers/key-vault-signer.ts








const RSA_ALGORITHMS = {
    sha256: 'RS256',
    sha384: 'RS384',
    sha512: 'RS512',
};
const EC_ALGORITHMS = {
    sha256: 'ES256',
    sha384: 'ES384',
    sha512: 'ES512',
};
/** Client options: generous retries (the SDK honours Retry-After on 429) and a 429 observer. */
function clientOptions(limit) {
    const observer = {
        name: 'vaultsign-throttle-observer',
        async sendRequest(request, next) {
            const response = await next(request);
            if (response.status === 429)
                limit.throttled();
            return response;
        },
    };
    return {
        retryOptions: { maxRetries: 8, retryDelayInMs: 500, maxRetryDelayInMs: 30_000 },
        additionalPolicies: [{ policy: observer, position: 'perRetry' }],
    };
}
/** Turns the SDK's errors into what a release engineer can act on. */
function explain(error, action, settings, role) {
    const status = error.statusCode;
    const where = `${settings.certificateName} in ${settings.vaultUrl}`;
    if (status === 403) {
        return new errors/* UserError */.y(`${action} ${where} was refused (HTTP 403): the identity lacks the permission; grant it the role "${role}"`);
    }
    if (status === 404)
        return new errors/* UserError */.y(`${action} ${where}: not found (HTTP 404); check the vault URL, name and version`);
    if (status === 401)
        return new errors/* UserError */.y(`${action} ${where}: the vault refused the token (HTTP 401): ${firstLine(error)}`);
    const name = error.name ?? '';
    const entra = /AADSTS\d+:.*?(?= - [A-Z][a-z]+ ID:|$)/.exec((0,errors/* messageOf */.b)(error).replace(/\s+/g, ' '));
    if (entra || /AuthenticationError|CredentialUnavailableError/.test(name)) {
        const hint = entra?.[0].startsWith('AADSTS700213')
            ? ' (add a federated credential for this subject to the app registration, or run from a branch, tag or environment it names)'
            : '';
        return new errors/* UserError */.y(`Azure sign-in failed: ${entra ? entra[0].trim() : firstLine(error)}${hint}`);
    }
    return error instanceof errors/* UserError */.y ? error : new errors/* UserError */.y(`${action} ${where} failed: ${firstLine(error)}`);
}
function firstLine(error) {
    return ((0,errors/* messageOf */.b)(error)
        .split('\n')
        .find((l) => l.trim()) ?? 'unknown error');
}
function keyTypeOf(certificate) {
    const type = certificate.publicKey.asymmetricKeyType;
    if (type === 'rsa')
        return 'RSA';
    if (type === 'ec')
        return 'EC';
    throw new errors/* UserError */.y(`the certificate's key type ${type} is not supported (RSA or EC)`);
}
/** Key Vault returns ECDSA signatures as r‖s; CMS wants DER. */
function ecdsaDer(raw) {
    const curve = raw.length === 64 ? nist/* p256 */.s9 : nist/* p384 */.sL;
    return Buffer.from(curve.Signature.fromBytes(raw, 'compact').toBytes('der'));
}
/**
 * A signer whose key stays in Azure Key Vault: the certificate is fetched once per run and checked
 * (validity, code signing, key match through a probe signature) before any file is touched.
 */
async function loadKeyVaultSigner(settings, credential, options) {
    const limit = new AdaptiveLimit(options.maxConcurrency);
    const certificates = new esm/* CertificateClient */.d3(settings.vaultUrl, credential, clientOptions(limit));
    const bundle = await (settings.certificateVersion
        ? certificates.getCertificateVersion(settings.certificateName, settings.certificateVersion)
        : certificates.getCertificate(settings.certificateName)).catch((error) => {
        throw explain(error, 'reading certificate', settings, 'Key Vault Certificate User');
    });
    if (!bundle.cer || !bundle.keyId)
        throw new errors/* UserError */.y(`certificate ${settings.certificateName} has no public certificate or key in the vault`);
    if (bundle.properties.enabled === false)
        throw new errors/* UserError */.y(`certificate ${settings.certificateName} is disabled in the vault`);
    const leaf = Buffer.from(bundle.cer);
    const certificate = (0,certificate_checks/* checkSigningCertificate */.t)(leaf, `Key Vault certificate ${settings.certificateName}`);
    const keyType = keyTypeOf(certificate);
    const crypto = new dist_esm/* CryptographyClient */.k1(bundle.keyId, credential, clientOptions(limit));
    const signDigest = async (hash, digest, signal) => {
        const algorithm = (keyType === 'RSA' ? RSA_ALGORITHMS : EC_ALGORITHMS)[hash];
        if (!algorithm)
            throw new errors/* UserError */.y(`Key Vault cannot sign a ${hash} digest; use sha256, sha384 or sha512`);
        const result = await limit
            .run(() => crypto.sign(algorithm, digest, { abortSignal: signal }))
            .catch((error) => {
            throw explain(error, 'signing with the key of', settings, 'Key Vault Crypto User');
        });
        limit.succeeded();
        return keyType === 'RSA' ? Buffer.from(result.result) : ecdsaDer(result.result);
    };
    // One probe signature proves the sign permission and that the vault key is the certificate's.
    const probe = (0,external_node_crypto_.createHash)('sha256').update((0,external_node_crypto_.randomBytes)(32)).digest();
    const probeSignature = await signDigest('sha256', probe);
    if (!(0,digest_signature/* verifyDigestSignature */.Ew)(certificate.publicKey, 'sha256', probe, probeSignature)) {
        throw new errors/* UserError */.y(`the key of ${settings.certificateName} in ${settings.vaultUrl} does not match its certificate`);
    }
    return {
        certificates: [leaf, ...(await options.chain(leaf))],
        keyType,
        certificate,
        limit,
        signDigest,
    };
}


/***/ })

};
