export const id = 703;
export const ids = [703];
export const modules = {

/***/ 6703:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   ArtifactSigningClient: () => (/* binding */ ArtifactSigningClient),
/* harmony export */   SCOPE: () => (/* binding */ SCOPE)
/* harmony export */ });
/* harmony import */ var node_timers_promises__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(8500);
/* harmony import */ var node_timers_promises__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_timers_promises__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(3916);
/* harmony import */ var _io_bounded_fetch_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3244);
/* harmony import */ var _io_http_error_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(641);
/* harmony import */ var _io_retry_js__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(3974);
/* harmony import */ var _throttle_gate_js__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(3571);






const SCOPE = 'https://codesigning.azure.net/.default';
/** The api-version and `/sign` path with the most production clients (research note trusted-signing.md §2). */
const API_VERSION = '2022-06-15-preview';
const ALGORITHMS = {
    sha256: 'RS256',
    sha384: 'RS384',
    sha512: 'RS512',
};
/** A status carries a signature and a certificate bag of a few KB. */
const LIMITS = {
    maxBytes: 1 << 20,
    firstByteMs: 30_000,
    totalMs: 60_000,
    hint: 'is the endpoint an Artifact Signing endpoint?',
};
/** One operation's time limit: users saw 100–180 s outliers; past it, it is posted again. */
const OPERATION_MS = 240_000;
/** Polls as often as Retry-After asks, but never more than this apart. */
const MAX_POLL_MS = 10_000;
const REQUEST_TRIES = 10;
/** A token is renewed this long before it expires. */
const TOKEN_MARGIN_MS = 5 * 60_000;
const OPERATION_TRIES = 3;
/** An operation the service ended without a signature, or that outlived its time limit: posted again. */
class OperationNotDone extends Error {
    name = 'OperationNotDone';
}
/** Both shapes: 2022-06-15-preview's flat status, and 2023-06-15-preview's wrapped in `result`. */
function statusOf(body, url) {
    let parsed;
    try {
        parsed = JSON.parse(body.toString('utf8'));
    }
    catch {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .UserError */ .yo(`the answer of ${url} is not JSON; is the endpoint an Artifact Signing endpoint?`);
    }
    const result = parsed.result ?? parsed;
    return { ...result, status: parsed.status ?? result.status };
}
/** 429, 5xx, a reply that did not come in time, or a connection that dropped: worth another try. */
function transient(error) {
    if (error instanceof _io_http_error_js__WEBPACK_IMPORTED_MODULE_2__/* .HttpError */ .j$)
        return error.retryable;
    if (error instanceof _io_bounded_fetch_js__WEBPACK_IMPORTED_MODULE_1__/* .ReplyTimeoutError */ .aw)
        return true;
    return error instanceof TypeError && error.cause !== undefined;
}
/**
 * The Artifact Signing data plane for one certificate profile: each signature is one operation (POST
 * …/sign, 202 + Operation-Location, polled as Retry-After asks), whose answer carries the certificate.
 */
class ArtifactSigningClient {
    target;
    credential;
    /** A 429 holds back every call of the run until the service's Retry-After. */
    gate = new _throttle_gate_js__WEBPACK_IMPORTED_MODULE_4__/* .ThrottleGate */ .g();
    token;
    renewing;
    constructor(target, credential) {
        this.target = target;
        this.credential = credential;
    }
    /**
     * Signs one digest. An operation that succeeded is never posted again: only failed or stalled ones
     * are, and requests are retried on throttling, server errors and dropped connections.
     */
    async sign(hash, digest, signal) {
        const signatureAlgorithm = ALGORITHMS[hash];
        if (!signatureAlgorithm)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .UserError */ .yo(`Artifact Signing cannot sign a ${hash} digest; use sha256, sha384 or sha512`);
        const { endpoint, account, profile } = this.target;
        const url = `${endpoint}/codesigningaccounts/${encodeURIComponent(account)}/certificateprofiles/${encodeURIComponent(profile)}/sign?api-version=${API_VERSION}`;
        const body = JSON.stringify({ signatureAlgorithm, digest: digest.toString('base64') });
        return (0,_io_retry_js__WEBPACK_IMPORTED_MODULE_3__/* .retry */ .L)(async () => {
            const accepted = await this.request(url, { method: 'POST', body }, signal);
            return this.finish(accepted, signal);
        }, {
            attempts: OPERATION_TRIES,
            baseDelayMs: 1000,
            maxDelayMs: 10_000,
            signal,
            isRetryable: (error) => error instanceof OperationNotDone,
        });
    }
    /** Follows an accepted operation to its end, within its own time limit. */
    async finish(accepted, signal) {
        const deadline = Date.now() + OPERATION_MS;
        const location = this.operationLocation(accepted);
        for (let reply = accepted;;) {
            const status = statusOf(reply.body, location);
            if (status.status === 'Succeeded') {
                if (!status.signature || !status.signingCertificate)
                    throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .UserError */ .yo(`Artifact Signing reported success without a signature or certificate (${location})`);
                return {
                    signature: Buffer.from(status.signature, 'base64'),
                    signingCertificate: status.signingCertificate,
                };
            }
            if (status.status !== 'InProgress' && status.status !== 'Running' && status.status !== 'NotStarted')
                throw new OperationNotDone(`the signing operation ended ${status.status ?? 'without a status'}`);
            const wait = Math.min((0,_io_http_error_js__WEBPACK_IMPORTED_MODULE_2__/* .parseRetryAfter */ .mu)(reply.headers.get('retry-after')) ?? 1000, MAX_POLL_MS);
            if (Date.now() + wait > deadline)
                throw new OperationNotDone(`the signing operation did not finish within ${OPERATION_MS / 1000} s`);
            await (0,node_timers_promises__WEBPACK_IMPORTED_MODULE_0__.setTimeout)(wait, undefined, { signal });
            reply = await this.request(location, { method: 'GET' }, signal);
        }
    }
    /** Where to poll: only on the endpoint itself, which is where the token may go. */
    operationLocation(accepted) {
        const location = accepted.headers.get('operation-location');
        if (!location)
            throw new OperationNotDone('the service accepted the request without an Operation-Location');
        if (new URL(location).origin !== new URL(this.target.endpoint).origin)
            throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .UserError */ .yo(`Artifact Signing pointed to ${new URL(location).origin} to follow the signature, not to the endpoint ${this.target.endpoint}; the token is not sent there`);
        return location;
    }
    /**
     * The access token, held until shortly before it expires: the credential may sign in anew on every
     * call (a GitHub ID token each time), and calls in flight together share one renewal.
     */
    async bearer(signal) {
        if (this.token && this.token.expiresOnTimestamp - Date.now() > TOKEN_MARGIN_MS)
            return this.token.token;
        this.renewing ??= this.credential
            .getToken(SCOPE, { abortSignal: signal })
            .then((token) => {
            if (!token)
                throw new _errors_js__WEBPACK_IMPORTED_MODULE_5__/* .UserError */ .yo('Azure sign-in gave no token for Artifact Signing');
            this.token = token;
            return token;
        })
            .finally(() => (this.renewing = undefined));
        return (await this.renewing).token;
    }
    /** One call, retried on transient failures; a 429 closes the gate for every call. */
    request(url, init, signal) {
        return (0,_io_retry_js__WEBPACK_IMPORTED_MODULE_3__/* .retry */ .L)(async () => {
            await this.gate.wait(signal);
            const headers = {
                Authorization: `Bearer ${await this.bearer(signal)}`,
                Accept: 'application/json',
                ...(init.body ? { 'Content-Type': 'application/json' } : {}),
                ...(this.target.correlationId ? { 'x-correlation-id': this.target.correlationId } : {}),
            };
            try {
                return await (0,_io_bounded_fetch_js__WEBPACK_IMPORTED_MODULE_1__/* .boundedRequest */ .JR)(url, { ...init, headers }, LIMITS, signal);
            }
            catch (error) {
                if (error instanceof _io_http_error_js__WEBPACK_IMPORTED_MODULE_2__/* .HttpError */ .j$ && error.status === 429)
                    this.gate.close(error.retryAfterMs ?? 1000);
                throw error;
            }
        }, {
            attempts: REQUEST_TRIES,
            baseDelayMs: 500,
            maxDelayMs: 30_000,
            signal,
            isRetryable: transient,
            requestedDelayMs: (error) => (error instanceof _io_http_error_js__WEBPACK_IMPORTED_MODULE_2__/* .HttpError */ .j$ ? error.retryAfterMs : undefined),
        });
    }
}


/***/ })

};
