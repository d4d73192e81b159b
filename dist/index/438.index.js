export const id = 438;
export const ids = [438];
export const modules = {

/***/ 9754:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   T: () => (/* binding */ firstLine),
/* harmony export */   V: () => (/* binding */ signInFailure)
/* harmony export */ });
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(3916);

function firstLine(error) {
    return ((0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .messageOf */ .bD)(error)
        .split('\n')
        .find((l) => l.trim()) ?? 'unknown error');
}
/** An Entra ID sign-in that failed, as a release engineer can act on it; undefined for other errors. */
function signInFailure(error) {
    const name = error.name ?? '';
    const entra = /AADSTS\d+:.*?(?= - [A-Z][a-z]+ ID:|$)/.exec((0,_errors_js__WEBPACK_IMPORTED_MODULE_0__/* .messageOf */ .bD)(error).replace(/\s+/g, ' '));
    if (!entra && !/AuthenticationError|CredentialUnavailableError/.test(name))
        return undefined;
    const hint = entra?.[0].startsWith('AADSTS700213')
        ? ' (add a federated credential for this subject to the app registration, or run from a branch, tag or environment it names)'
        : '';
    return new _errors_js__WEBPACK_IMPORTED_MODULE_0__/* .UserError */ .yo(`Azure sign-in failed: ${entra ? entra[0].trim() : firstLine(error)}${hint}`);
}


/***/ }),

/***/ 2024:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   H: () => (/* binding */ boundedHttpClient)
/* harmony export */ });
/* unused harmony export AZURE_REPLY_LIMITS */
/* harmony import */ var _azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(1818);
/* harmony import */ var _bounded_fetch_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3244);


/**
 * Azure replies (tokens, certificates, signatures, their errors) are a few KB; a certificate bundle
 * stays under 100 KB. A vault or sign-in service that has not answered in 30 s is better retried.
 */
const AZURE_REPLY_LIMITS = {
    maxBytes: 1 << 20,
    firstByteMs: 30_000,
    totalMs: 60_000,
    hint: 'is this an Azure endpoint?',
};
/** Every status streamed: the body is read here, under the cap, instead of whole by the SDK. */
const STREAM_EVERY_STATUS = new Set([Number.POSITIVE_INFINITY]);
/**
 * The Azure SDK's HTTP client with the bounds of boundedFetch: the SDK reads any body whole and
 * times only the first byte. A request also ends on `signal` (the run's deadline), for SDK parts
 * that do not pass the caller's AbortSignal on (MSAL's token requests). A timed-out request is
 * reported as ETIMEDOUT, which the SDK's retry policy retries like a dropped connection.
 */
function boundedHttpClient(options = {}) {
    const { signal, limits = AZURE_REPLY_LIMITS } = options;
    const inner = (0,_azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_0__/* .createDefaultHttpClient */ .fl)();
    return {
        async sendRequest(request) {
            const { abortSignal, streamResponseStatusCodes } = request;
            const url = new URL(request.url);
            const shown = `${url.origin}${url.pathname}`;
            const outer = [abortSignal, signal].filter((s) => s !== undefined);
            const clock = (0,_bounded_fetch_js__WEBPACK_IMPORTED_MODULE_1__/* .requestClock */ .is)(shown, limits, outer.length ? AbortSignal.any(outer) : undefined);
            request.abortSignal = clock.signal;
            request.streamResponseStatusCodes = STREAM_EVERY_STATUS;
            try {
                const response = await inner.sendRequest(request);
                clock.answered();
                // A response stream without an encoding set yields Buffers.
                const body = response.readableStreamBody;
                const { bytes, complete } = await (0,_bounded_fetch_js__WEBPACK_IMPORTED_MODULE_1__/* .readAtMost */ .rU)(body, limits.maxBytes);
                if (!complete)
                    throw new _azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_0__/* .RestError */ .pj((0,_bounded_fetch_js__WEBPACK_IMPORTED_MODULE_1__/* .tooLarge */ .g$)(shown, limits).message, { request });
                return { ...response, readableStreamBody: undefined, bodyAsText: bytes.toString('utf8') };
            }
            catch (error) {
                const reason = clock.signal.reason;
                if (outer.some((s) => s.aborted) || !(reason instanceof _bounded_fetch_js__WEBPACK_IMPORTED_MODULE_1__/* .ReplyTimeoutError */ .aw))
                    throw error;
                throw new _azure_core_rest_pipeline__WEBPACK_IMPORTED_MODULE_0__/* .RestError */ .pj(reason.message, { code: 'ETIMEDOUT', request });
            }
            finally {
                clock.done();
                request.abortSignal = abortSignal;
                request.streamResponseStatusCodes = streamResponseStatusCodes;
            }
        },
    };
}


/***/ }),

/***/ 4438:
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
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
// EXTERNAL MODULE: ./src/io/bounded-http-client.ts
var bounded_http_client = __webpack_require__(2024);
// EXTERNAL MODULE: ./src/signers/throttle-gate.ts
var throttle_gate = __webpack_require__(3571);
// EXTERNAL MODULE: ./src/credentials/sign-in-failure.ts
var sign_in_failure = __webpack_require__(9754);
// EXTERNAL MODULE: ./src/signers/certificate-checks.ts
var certificate_checks = __webpack_require__(8444);
// EXTERNAL MODULE: ./src/signers/throttling-policy.ts
var throttling_policy = __webpack_require__(251);
// EXTERNAL MODULE: ./src/signers/digest-signature.ts + 7 modules
var digest_signature = __webpack_require__(6114);
;// CONCATENATED MODULE: ./src/signers/key-vault-algorithm.ts


const RSA_ALGORITHMS = {
    sha256: 'RS256',
    sha384: 'RS384',
    sha512: 'RS512',
};
/** Key Vault binds each ECDSA algorithm to one curve and requires its hash's length of digest. */
const EC_ALGORITHMS = {
    'P-256': { algorithm: 'ES256', hash: 'sha256', bytes: 32 },
    'P-384': { algorithm: 'ES384', hash: 'sha384', bytes: 48 },
    'P-521': { algorithm: 'ES512', hash: 'sha512', bytes: 64 },
};
function refuseSha1(hash) {
    if (hash === 'sha1')
        throw new errors/* UserError */.yo('Key Vault cannot sign a sha1 digest; use sha256, sha384 or sha512');
}
/**
 * `digest` in the length Key Vault requires, yielding the same ECDSA signature. ECDSA signs a hash as
 * the integer of its leftmost bits, as many as the curve's order has: P-256's and P-384's orders have
 * 256 and 384 bits, so a longer file digest cut to 32 or 48 bytes is exactly what a verifier uses;
 * P-521's 521 bits exceed every digest, which stays whole. A shorter digest counts as its integer,
 * which leading zero bytes do not change.
 */
function fitted(digest, bytes) {
    if (digest.length >= bytes)
        return digest.subarray(0, bytes);
    return Buffer.concat([Buffer.alloc(bytes - digest.length), digest]);
}
function ecScheme(curve) {
    const { algorithm, hash: probeHash, bytes } = EC_ALGORITHMS[curve];
    return {
        keyType: 'EC',
        probeHash,
        request(hash, digest) {
            refuseSha1(hash);
            return { algorithm, value: fitted(digest, bytes) };
        },
        // Key Vault answers r‖s, each as long as the curve's order; CMS carries DER.
        signature: (answer) => (0,digest_signature/* ecdsaDerFromRaw */.UJ)(curve, answer, 'Key Vault'),
    };
}
const RSA_SCHEME = {
    keyType: 'RSA',
    probeHash: 'sha256',
    request(hash, digest) {
        refuseSha1(hash);
        return { algorithm: RSA_ALGORITHMS[hash], value: digest };
    },
    signature: (answer) => Buffer.from(answer),
};
/** The scheme for `certificate`'s key; a key Key Vault cannot sign code with is refused before any file. */
function keyVaultScheme(certificate, name) {
    const key = certificate.publicKey;
    if (key.asymmetricKeyType === 'rsa')
        return RSA_SCHEME;
    const curve = (0,digest_signature/* curveOf */.Fi)(key);
    if (curve)
        return ecScheme(curve);
    const what = key.asymmetricKeyType === 'ec'
        ? `an EC key on ${key.asymmetricKeyDetails?.namedCurve}`
        : `a ${key.asymmetricKeyType} key`;
    throw new errors/* UserError */.yo(`certificate ${name} has ${what}; vaultsign signs with RSA keys or EC keys on P-256, P-384 or P-521`);
}

;// CONCATENATED MODULE: ./src/signers/key-vault-signer.ts











/**
 * Client options: the SDK retries failures with backoff; throttling goes through the vault's gate;
 * every reply is capped and timed. Each call passes the run's AbortSignal, which ends its retries.
 */
function clientOptions(gate) {
    return {
        retryOptions: { maxRetries: 8, retryDelayInMs: 500, maxRetryDelayInMs: 30_000 },
        additionalPolicies: [{ policy: (0,throttling_policy/* throttlingPolicy */.K)(gate), position: 'perRetry' }],
        httpClient: (0,bounded_http_client/* boundedHttpClient */.H)(),
    };
}
/** Turns the SDK's errors into what a release engineer can act on. */
function explain(error, action, settings, role) {
    const status = error.statusCode;
    const where = `${settings.certificateName} in ${settings.vaultUrl}`;
    if (status === 403) {
        return new errors/* UserError */.yo(`${action} ${where} was refused (HTTP 403): the identity lacks the permission; grant it the role "${role}"`);
    }
    if (status === 404)
        return new errors/* UserError */.yo(`${action} ${where}: not found (HTTP 404); check the vault URL, name and version`);
    if (status === 401)
        return new errors/* UserError */.yo(`${action} ${where}: the vault refused the token (HTTP 401): ${(0,sign_in_failure/* firstLine */.T)(error)}`);
    const signIn = (0,sign_in_failure/* signInFailure */.V)(error);
    if (signIn)
        return signIn;
    return error instanceof errors/* UserError */.yo ? error : new errors/* UserError */.yo(`${action} ${where} failed: ${(0,sign_in_failure/* firstLine */.T)(error)}`);
}
/**
 * A signer whose key stays in Azure Key Vault: the certificate is fetched once per run and checked
 * (validity, code signing, key match through a probe signature) before any file is touched.
 * `signal` (the run's deadline) ends this set-up, SDK retries included.
 */
async function loadKeyVaultSigner(settings, credential, options) {
    const { signal } = options;
    const gate = new throttle_gate/* ThrottleGate */.g();
    const certificates = new esm/* CertificateClient */.d3(settings.vaultUrl, credential, clientOptions(gate));
    const bundle = await (settings.certificateVersion
        ? certificates.getCertificateVersion(settings.certificateName, settings.certificateVersion, {
            abortSignal: signal,
        })
        : certificates.getCertificate(settings.certificateName, { abortSignal: signal })).catch((error) => {
        throw explain(error, 'reading certificate', settings, 'Key Vault Certificate User');
    });
    if (!bundle.cer || !bundle.keyId)
        throw new errors/* UserError */.yo(`certificate ${settings.certificateName} has no public certificate or key in the vault`);
    if (bundle.properties.enabled === false)
        throw new errors/* UserError */.yo(`certificate ${settings.certificateName} is disabled in the vault`);
    const leaf = Buffer.from(bundle.cer);
    const certificate = (0,certificate_checks/* checkSigningCertificate */.t)(leaf, `Key Vault certificate ${settings.certificateName}`);
    const scheme = keyVaultScheme(certificate, settings.certificateName);
    const crypto = new dist_esm/* CryptographyClient */.k1(bundle.keyId, credential, clientOptions(gate));
    const signDigest = async (hash, digest, signal) => {
        const { algorithm, value } = scheme.request(hash, digest);
        const result = await crypto.sign(algorithm, value, { abortSignal: signal }).catch((error) => {
            throw explain(error, 'signing with the key of', settings, 'Key Vault Crypto User');
        });
        return scheme.signature(result.result);
    };
    // One probe signature, with the key's own algorithm, proves the sign permission and that the vault
    // key is the certificate's.
    const probe = (0,external_node_crypto_.createHash)(scheme.probeHash).update((0,external_node_crypto_.randomBytes)(32)).digest();
    const probeSignature = await signDigest(scheme.probeHash, probe, signal);
    if (!(0,digest_signature/* verifyDigestSignature */.Ew)(certificate.publicKey, scheme.probeHash, probe, probeSignature)) {
        throw new errors/* UserError */.yo(`the key of ${settings.certificateName} in ${settings.vaultUrl} does not match its certificate`);
    }
    const chain = [leaf, ...(await options.chain(leaf))];
    return {
        certificate,
        signDigest: async (hash, digest, signal) => ({
            signature: await signDigest(hash, digest, signal),
            certificates: chain,
        }),
    };
}


/***/ })

};
