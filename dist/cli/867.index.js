export const id = 867;
export const ids = [867];
export const modules = {

/***/ 7867:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   createCredential: () => (/* binding */ createCredential)
/* harmony export */ });
/* harmony import */ var _azure_identity__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(9907);
/* harmony import */ var _github_id_token_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3993);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(3916);
/* harmony import */ var _io_bounded_http_client_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(2024);




const FEDERATION_AUDIENCE = 'api://AzureADTokenExchange';
const PUBLIC_AUTHORITIES = [
    'login.microsoftonline.com',
    'login.microsoftonline.us',
    'login.chinacloudapi.cn',
    'login.partner.microsoftonline.cn',
];
/**
 * Options shared by the Entra credentials. An authority outside Microsoft's clouds (Azure Stack, a
 * sovereign or private authority named by AZURE_AUTHORITY_HOST) cannot be checked by instance
 * discovery, which asks the public cloud, so discovery is off for it. MSAL does not pass a call's
 * AbortSignal on to its requests: the HTTP client ends them on the run's signal.
 */
function entraOptions(env, httpClient) {
    const authorityHost = env.AZURE_AUTHORITY_HOST;
    const known = !authorityHost || PUBLIC_AUTHORITIES.includes(new URL(authorityHost).hostname);
    return {
        authorityHost,
        disableInstanceDiscovery: !known,
        httpClient,
    };
}
function required(settings, mode) {
    const missing = [!settings.tenantId && 'azure-tenant-id', !settings.clientId && 'azure-client-id'].filter(Boolean);
    if (missing.length)
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .UserError */ .yo(`azure-credential ${mode} needs ${missing.join(' and ')}`);
    return { tenantId: settings.tenantId, clientId: settings.clientId };
}
/** JWT expiry, so a given access token is not offered after it ran out. */
function expiryOf(token) {
    try {
        const payload = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
        if (typeof payload.exp === 'number')
            return payload.exp * 1000;
    }
    catch {
        // Not a JWT: assume the usual hour.
    }
    return Date.now() + 3600_000;
}
function staticToken(token) {
    return { getToken: async () => ({ token, expiresOnTimestamp: expiryOf(token) }) };
}
function githubOidc(settings, context, httpClient) {
    const { tenantId, clientId } = required(settings, 'github-oidc');
    if (!context.env.ACTIONS_ID_TOKEN_REQUEST_URL ||
        !context.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ||
        !context.getIdToken) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .UserError */ .yo(`GitHub OIDC is not available to this job: it lacks the id-token permission; ${_github_id_token_js__WEBPACK_IMPORTED_MODULE_1__/* .PERMISSIONS_HINT */ .L}`);
    }
    const getIdToken = context.getIdToken;
    // A fresh ID token for every assertion: they live minutes, signing runs may last longer.
    return new _azure_identity__WEBPACK_IMPORTED_MODULE_0__/* .ClientAssertionCredential */ .XI(tenantId, clientId, async () => {
        const idToken = await getIdToken(FEDERATION_AUDIENCE);
        context.mask(idToken);
        return idToken;
    }, entraOptions(context.env, httpClient));
}
function chooseMode(settings, env) {
    if (settings.mode !== 'auto')
        return settings.mode;
    if (settings.accessToken)
        return 'access-token';
    if (settings.clientSecret)
        return 'client-secret';
    if (settings.tenantId && settings.clientId && env.ACTIONS_ID_TOKEN_REQUEST_URL)
        return 'github-oidc';
    if (env.GITHUB_ACTIONS === 'true' && settings.tenantId && settings.clientId) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .UserError */ .yo(`azure-credential auto: the job cannot request a GitHub OIDC token (no id-token permission); ${_github_id_token_js__WEBPACK_IMPORTED_MODULE_1__/* .PERMISSIONS_HINT */ .L}\n` +
            'or give azure-client-secret, or azure-credential: azure-cli after azure/login');
    }
    return 'azure-cli';
}
/**
 * The token credential for the Azure key stores, per azure-credential; every token it hands out is masked
 * first. `signal` (the run's deadline) ends its requests still in flight.
 */
function createCredential(settings, context, signal) {
    if (settings.clientSecret)
        context.mask(settings.clientSecret);
    if (settings.accessToken)
        context.mask(settings.accessToken);
    const mode = chooseMode(settings, context.env);
    const httpClient = (0,_io_bounded_http_client_js__WEBPACK_IMPORTED_MODULE_2__/* .boundedHttpClient */ .H)({ signal });
    let inner;
    switch (mode) {
        case 'access-token':
            if (!settings.accessToken)
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .UserError */ .yo('azure-credential access-token needs azure-access-token');
            inner = staticToken(settings.accessToken);
            break;
        case 'client-secret': {
            const { tenantId, clientId } = required(settings, 'client-secret');
            if (!settings.clientSecret)
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_3__/* .UserError */ .yo('azure-credential client-secret needs azure-client-secret');
            inner = new _azure_identity__WEBPACK_IMPORTED_MODULE_0__/* .ClientSecretCredential */ .HC(tenantId, clientId, settings.clientSecret, entraOptions(context.env, httpClient));
            break;
        }
        case 'github-oidc':
            inner = githubOidc(settings, context, httpClient);
            break;
        case 'managed-identity':
            inner = new _azure_identity__WEBPACK_IMPORTED_MODULE_0__/* .ManagedIdentityCredential */ .NC({
                ...(settings.clientId ? { clientId: settings.clientId } : {}),
                httpClient,
            });
            break;
        case 'azure-cli':
        default:
            inner =
                settings.mode === 'auto'
                    ? new _azure_identity__WEBPACK_IMPORTED_MODULE_0__/* .ChainedTokenCredential */ .Rk(new _azure_identity__WEBPACK_IMPORTED_MODULE_0__/* .AzureCliCredential */ .nG({ tenantId: settings.tenantId }), new _azure_identity__WEBPACK_IMPORTED_MODULE_0__/* .ManagedIdentityCredential */ .NC({ httpClient }))
                    : new _azure_identity__WEBPACK_IMPORTED_MODULE_0__/* .AzureCliCredential */ .nG({ tenantId: settings.tenantId });
    }
    const credential = {
        async getToken(scopes, options) {
            const token = await inner.getToken(scopes, options);
            if (token)
                context.mask(token.token);
            return token;
        },
    };
    return { credential, mode };
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


/***/ })

};
