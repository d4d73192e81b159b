export const id = 11;
export const ids = [11];
export const modules = {

/***/ 6011:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  runServe: () => (/* binding */ runServe)
});

// EXTERNAL MODULE: external "node:fs/promises"
var promises_ = __webpack_require__(1455);
// EXTERNAL MODULE: external "node:tls"
var external_node_tls_ = __webpack_require__(1692);
// EXTERNAL MODULE: ./src/errors.ts
var errors = __webpack_require__(3916);
;// CONCATENATED MODULE: ./src/serve/audit-log.ts


/**
 * An append-only JSON-lines file: one line per digest (or other request), a request's lines written with one write (O_APPEND keeps
 * lines whole with requests in parallel) and on disk (fdatasync) before the answer leaves. Waiting
 * writers share one fdatasync, so many requests at once cost one disk flush, not one each.
 */
class AuditLog {
    handle;
    path;
    waiting = [];
    syncing = false;
    constructor(handle, path) {
        this.handle = handle;
        this.path = path;
    }
    static async open(path) {
        const handle = await (0,promises_.open)(path, 'a', 0o640).catch((error) => {
            throw new errors/* UserError */.yo(`auditLog ${path}: cannot open it for appending: ${(0,errors/* messageOf */.bD)(error)}`);
        });
        return new AuditLog(handle, path);
    }
    /** Appends `records` as lines, with the time first, in one write; resolves once they are on disk. */
    async write(records) {
        const time = new Date().toISOString();
        const lines = Buffer.from(records.map((record) => `${JSON.stringify({ time, ...record })}\n`).join(''));
        // One write or none: finishing a short one later could land inside another request's lines.
        const { bytesWritten } = await this.handle.write(lines);
        if (bytesWritten !== lines.length)
            throw new Error(`the audit log took ${bytesWritten} of ${lines.length} bytes (is the disk full?)`);
        await new Promise((resolve, reject) => {
            this.waiting.push({ resolve, reject });
            if (!this.syncing)
                void this.flush();
        });
    }
    /** One fdatasync for everyone whose line was written before it started. */
    async flush() {
        this.syncing = true;
        while (this.waiting.length) {
            const batch = this.waiting.splice(0);
            try {
                await this.handle.datasync();
                batch.forEach((writer) => writer.resolve());
            }
            catch (error) {
                batch.forEach((writer) => writer.reject(error));
            }
        }
        this.syncing = false;
    }
    close() {
        return this.handle.close();
    }
}

// EXTERNAL MODULE: ./src/config/inputs.ts + 2 modules
var inputs = __webpack_require__(2743);
// EXTERNAL MODULE: ./src/cli/did-you-mean.ts
var did_you_mean = __webpack_require__(9927);
// EXTERNAL MODULE: ./src/io/loopback.ts
var loopback = __webpack_require__(3243);
;// CONCATENATED MODULE: ./src/serve/config.ts





const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';
/** Claims that tie a token to a repository: an allow-list entry without one would admit any repository on GitHub. */
const REPOSITORY_CLAIMS = [
    'repository',
    'repository_id',
    'repository_owner',
    'repository_owner_id',
    'job_workflow_ref',
    'sub',
];
/** Inputs that describe files and signatures, not the key: the client's business, not the server's. */
const NOT_KEY_INPUTS = [
    'files',
    'files-folder',
    'files-folder-filter',
    'files-folder-recurse',
    'files-folder-depth',
    'files-catalog',
    'exclude',
    'file-digest',
    'allow-sha1',
    'timestamp-rfc3161',
    'timestamp-digest',
    'description',
    'description-url',
    'append-signature',
    'skip-signed',
    'generate-page-hashes',
    'concurrency',
    'timeout',
    'dry-run',
];
const KEY_INPUTS = Object.keys(inputs/* INPUTS */.mc).filter((name) => !NOT_KEY_INPUTS.includes(name));
/** Reads a config file's values, each error naming the file and the field. */
class Fields {
    file;
    constructor(file) {
        this.file = file;
    }
    fail(where, problem) {
        throw new errors/* UserError */.yo(`${this.file}: ${where}: ${problem}`);
    }
    object(value, where) {
        if (typeof value !== 'object' || value === null || Array.isArray(value))
            this.fail(where, 'expected an object { … }');
        return value;
    }
    string(value, where) {
        if (typeof value !== 'string' || !value)
            this.fail(where, 'expected a non-empty string');
        return value;
    }
    array(value, where) {
        if (!Array.isArray(value))
            this.fail(where, 'expected a list [ … ]');
        return value;
    }
    /** Refuses keys the object should not have, naming the nearest known one. */
    only(object, known, where) {
        for (const key of Object.keys(object)) {
            if (known.includes(key))
                continue;
            const guess = (0,did_you_mean/* nearest */.p)(key, [...known]);
            this.fail(where ? `${where}.${key}` : key, `unknown field${guess ? `; did you mean "${guess}"?` : ` (known: ${known.join(', ')})`}`);
        }
    }
}
function listenOf(f, value) {
    const listen = f.object(value ?? {}, 'listen');
    f.only(listen, ['host', 'port'], 'listen');
    const host = listen.host === undefined ? '127.0.0.1' : f.string(listen.host, 'listen.host');
    const port = listen.port ?? 8443;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535)
        f.fail('listen.port', 'expected a port number 0–65535 (0: any free port, printed at start)');
    return { host, port };
}
function tlsOf(f, value, host) {
    if (value === undefined) {
        if ((0,loopback/* isLoopback */.U)(host))
            return undefined;
        f.fail('tls', `missing: on ${host} the server answers only HTTPS; give "tls": {"cert": PEM file, "key": PEM file}, or listen on 127.0.0.1 for plain HTTP behind a local proxy`);
    }
    const tls = f.object(value, 'tls');
    f.only(tls, ['cert', 'key'], 'tls');
    return { cert: f.string(tls.cert, 'tls.cert'), key: f.string(tls.key, 'tls.key') };
}
function keyOf(f, value, env) {
    const key = f.object(value, 'key');
    f.only(key, KEY_INPUTS, 'key');
    const inputs = {};
    for (const [name, given] of Object.entries(key))
        inputs[name] = f.string(given, `key.${name}`);
    // Secrets from the environment (e.g. systemd's EnvironmentFile), as the CLI takes them: not in the config file.
    inputs['pkcs11-pin'] ??= env.VAULTSIGN_PKCS11_PIN ?? '';
    inputs['pfx-password'] ??= env.VAULTSIGN_PFX_PASSWORD ?? '';
    return Object.fromEntries(Object.entries(inputs).filter(([, v]) => v));
}
function oidcOf(f, value) {
    if (value === undefined)
        return undefined;
    const oidc = f.object(value, 'oidc');
    f.only(oidc, ['issuer', 'audience'], 'oidc');
    const issuer = oidc.issuer === undefined ? GITHUB_ISSUER : f.string(oidc.issuer, 'oidc.issuer');
    if (!issuer.startsWith('https://'))
        f.fail('oidc.issuer', `"${issuer}" is not an https:// URL`);
    return { issuer: issuer.replace(/\/+$/, ''), audience: f.string(oidc.audience, 'oidc.audience') };
}
function allowOf(f, value) {
    return f.array(value ?? [], 'allow').map((item, i) => {
        const where = `allow[${i}]`;
        const entry = f.object(item, where);
        const claims = {};
        for (const [claim, wanted] of Object.entries(entry))
            claims[claim] = f.string(wanted, `${where}.${claim}`);
        if (!REPOSITORY_CLAIMS.some((claim) => claims[claim]))
            f.fail(where, `names no repository: any repository on GitHub can ask for a token with your audience; add one of ${REPOSITORY_CLAIMS.join(', ')}`);
        return claims;
    });
}
function tokensOf(f, value) {
    const names = new Set();
    return f.array(value ?? [], 'tokens').map((item, i) => {
        const where = `tokens[${i}]`;
        const entry = f.object(item, where);
        f.only(entry, ['name', 'sha256'], where);
        const name = f.string(entry.name, `${where}.name`);
        if (names.has(name))
            f.fail(`${where}.name`, `"${name}" is used twice: each token needs its own name`);
        names.add(name);
        const sha256 = f.string(entry.sha256, `${where}.sha256`).toLowerCase();
        if (!/^[0-9a-f]{64}$/.test(sha256))
            f.fail(`${where}.sha256`, 'expected the token\'s SHA-256 in hex (64 digits), e.g. from: printf %s "$TOKEN" | sha256sum');
        return { name, sha256: Buffer.from(sha256, 'hex') };
    });
}
function perMinuteOf(f, value) {
    const limit = f.object(value ?? {}, 'rateLimit');
    f.only(limit, ['perMinute'], 'rateLimit');
    const perMinute = limit.perMinute ?? 600;
    if (typeof perMinute !== 'number' || !Number.isInteger(perMinute) || perMinute < 1)
        f.fail('rateLimit.perMinute', 'expected a whole number of signatures per caller per minute, 1 or more');
    return perMinute;
}
const FIELDS = ['listen', 'tls', 'key', 'auditLog', 'oidc', 'allow', 'tokens', 'rateLimit'];
/** Reads and checks the server's config file; every error names the file and the field. */
async function readServeConfig(file, env) {
    const text = await (0,promises_.readFile)(file, 'utf8').catch((error) => {
        throw new errors/* UserError */.yo(`--config ${file}: cannot read it: ${(0,errors/* messageOf */.bD)(error)}`);
    });
    let parsed;
    try {
        parsed = JSON.parse(text);
    }
    catch (error) {
        throw new errors/* UserError */.yo(`${file}: not valid JSON: ${(0,errors/* messageOf */.bD)(error)}`);
    }
    const f = new Fields(file);
    const root = f.object(parsed, 'the file');
    f.only(root, FIELDS, '');
    const listen = listenOf(f, root.listen);
    const tls = tlsOf(f, root.tls, listen.host);
    const key = keyOf(f, root.key, env);
    const auditLog = f.string(root.auditLog, 'auditLog');
    const access = {
        oidc: oidcOf(f, root.oidc),
        allow: allowOf(f, root.allow),
        tokens: tokensOf(f, root.tokens),
        perMinute: perMinuteOf(f, root.rateLimit),
    };
    if (!access.oidc && access.allow.length)
        f.fail('allow', 'an allow-list needs "oidc": {"audience": …} (the tokens it applies to)');
    if (access.oidc && !access.allow.length)
        f.fail('allow', 'missing: with "oidc", list who may sign, e.g. [{"repository": "acme/app", "ref": "refs/heads/main"}]');
    if (!access.oidc && !access.tokens.length)
        f.fail('the file', 'nobody could sign: give "oidc" with "allow", or "tokens", or both');
    const fixed = JSON.stringify({ listen, tls, key: root.key, auditLog });
    return { file, listen, tls, key, auditLog, access, fixed };
}

// EXTERNAL MODULE: external "node:http"
var external_node_http_ = __webpack_require__(7067);
// EXTERNAL MODULE: external "node:https"
var external_node_https_ = __webpack_require__(4708);
// EXTERNAL MODULE: ./src/authenticode/algorithms.ts
var algorithms = __webpack_require__(9157);
// EXTERNAL MODULE: external "node:crypto"
var external_node_crypto_ = __webpack_require__(7598);
// EXTERNAL MODULE: ./node_modules/jose/dist/webapi/jwks/remote.js + 1 modules
var remote = __webpack_require__(7315);
// EXTERNAL MODULE: ./node_modules/jose/dist/webapi/util/errors.js
var util_errors = __webpack_require__(5674);
// EXTERNAL MODULE: ./node_modules/jose/dist/webapi/util/decode_jwt.js
var decode_jwt = __webpack_require__(7961);
// EXTERNAL MODULE: ./node_modules/jose/dist/webapi/jwt/verify.js + 2 modules
var verify = __webpack_require__(4490);
// EXTERNAL MODULE: ./src/io/bounded-fetch.ts
var bounded_fetch = __webpack_require__(3244);
// EXTERNAL MODULE: ./src/io/http-error.ts
var http_error = __webpack_require__(641);
;// CONCATENATED MODULE: ./src/serve/auth.ts





/** The claims of a GitHub ID token the audit log keeps: who ran what, never the token. */
const AUDITED_CLAIMS = [
    'repository',
    'ref',
    'environment',
    'workflow',
    'job_workflow_ref',
    'run_id',
    'actor',
    'sub',
];
/** Who the rate limit counts: a static token by name, a workflow by its repository. */
function callerKey(caller) {
    return caller.kind === 'token'
        ? `token:${caller.name}`
        : `repository:${caller.claims.repository ?? caller.claims.sub ?? ''}`;
}
/** A request the server will not serve: 401 (who are you?), 403 (not you), 503 (cannot check now). */
class Refusal extends Error {
    status;
    caller;
    name = 'Refusal';
    constructor(status, message, 
    /** Who asked, when the token proved it. */
    caller) {
        super(message);
        this.status = status;
        this.caller = caller;
    }
}
const DISCOVERY_LIMITS = {
    maxBytes: 64 << 10,
    firstByteMs: 10_000,
    totalMs: 20_000,
    hint: 'is oidc.issuer an OpenID Connect issuer?',
};
/** The issuer's signing keys, found through its discovery document; a failed lookup is tried again on the next request. */
function issuerKeys(issuer) {
    let keys;
    return () => {
        keys ??= (async () => {
            const url = `${issuer}/.well-known/openid-configuration`;
            const document = JSON.parse((await (0,bounded_fetch/* boundedFetch */.A)(url, {}, DISCOVERY_LIMITS)).toString('utf8'));
            if (typeof document.jwks_uri !== 'string' || !document.jwks_uri.startsWith('https://'))
                throw new Error(`${url} names no https jwks_uri`);
            return (0,remote/* createRemoteJWKSet */.RD)(new URL(document.jwks_uri), {
                // The key set is read within limits too, and a refusal says its status.
                [remote/* customFetch */.A6]: async (url, init) => {
                    const { status, headers, body } = await (0,bounded_fetch/* boundedRequest */.JR)(url, { headers: init.headers }, DISCOVERY_LIMITS);
                    return new Response(new Uint8Array(body), { status, headers });
                },
            });
        })().catch((error) => {
            keys = undefined;
            throw error;
        });
        return keys;
    };
}
/** Constant-time: every stored hash is compared, whichever matches. */
function staticCaller(presented, tokens) {
    const hash = (0,external_node_crypto_.createHash)('sha256').update(presented, 'utf8').digest();
    let found;
    for (const token of tokens)
        if ((0,external_node_crypto_.timingSafeEqual)(hash, token.sha256) && !found)
            found = token;
    return found && { kind: 'token', name: found.name };
}
function claimText(value) {
    return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : undefined;
}
/** Passes when every claim of one entry has its value; else names, per entry, the claims that differ. */
function checkAllowList(payload, access, caller) {
    const misses = access.allow.map((entry) => Object.entries(entry)
        .filter(([claim, wanted]) => claimText(payload[claim]) !== wanted)
        .map(([claim]) => claim));
    if (misses.some((differing) => differing.length === 0))
        return;
    const shown = (claim) => {
        const value = claimText(payload[claim]);
        return value === undefined ? `${claim} (absent)` : `${claim}: ${(0,http_error/* printable */.g$)(value, 200)}`;
    };
    const fewest = Math.min(...misses.map((m) => m.length));
    const nearest = [...new Set(misses.filter((m) => m.length === fewest).flat())];
    throw new Refusal(403, `no allow-list entry admits this token (${nearest.map(shown).join(', ')}); the claims that differ, per entry: ${misses.map((m, i) => `${i + 1}: ${m.join(', ')}`).join('; ')}`, caller);
}
function oidcCaller(payload) {
    const claims = {};
    for (const name of AUDITED_CLAIMS) {
        const value = claimText(payload[name]);
        if (value !== undefined)
            claims[name] = value;
    }
    return { kind: 'github-oidc', claims };
}
function looksLikeJwt(token) {
    return /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);
}
/** Why jose refused a token, in words for the caller (never the token itself). */
function whyInvalid(error) {
    if (error instanceof util_errors/* JWTExpired */.n)
        return 'the token has expired';
    if (error instanceof util_errors/* JWTClaimValidationFailed */.ie)
        return `claim ${error.claim}: ${error.reason}`;
    if (error instanceof util_errors/* JWKSNoMatchingKey */.BT)
        return "no key of the issuer's JWKS matches the token";
    if (error instanceof util_errors/* JWSSignatureVerificationFailed */.h2)
        return 'the signature does not verify';
    return (0,errors/* messageOf */.bD)(error);
}
/** Checks `Authorization: Bearer …` against the access rules: a static token, or a GitHub OIDC ID token. */
class Authenticator {
    access;
    keys;
    constructor(access, 
    /** The authenticator this one replaces (a reload): its issuer keys are kept when the issuer is the same. */
    previous) {
        this.access = access;
        const issuer = access.oidc?.issuer;
        if (issuer)
            this.keys = previous?.access.oidc?.issuer === issuer ? previous.keys : issuerKeys(issuer);
    }
    async authenticate(header) {
        const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
        if (!token)
            throw new Refusal(401, 'no bearer token: send Authorization: Bearer <token>');
        const known = staticCaller(token, this.access.tokens);
        if (known)
            return known;
        const oidc = this.access.oidc;
        if (!oidc || !this.keys || !looksLikeJwt(token))
            throw new Refusal(401, 'the token is not one this server knows');
        let claimed;
        try {
            claimed = (0,decode_jwt/* decodeJwt */.i)(token);
        }
        catch {
            throw new Refusal(401, 'the token is not a readable JWT');
        }
        // Checked first only to say so plainly: the signature check below decides.
        if (claimed.iss !== oidc.issuer)
            throw new Refusal(401, `the token's issuer ${(0,http_error/* printable */.g$)(String(claimed.iss), 200)} is not ${oidc.issuer}`);
        let keys;
        try {
            keys = await this.keys();
        }
        catch (error) {
            throw new Refusal(503, `cannot read the signing keys of ${oidc.issuer}: ${(0,errors/* messageOf */.bD)(error)}`);
        }
        let payload;
        try {
            ({ payload } = await (0,verify/* jwtVerify */.V)(token, keys, {
                issuer: oidc.issuer,
                audience: oidc.audience,
                algorithms: ['RS256'],
                requiredClaims: ['exp', 'iat'],
                clockTolerance: 5,
            }));
        }
        catch (error) {
            // Failing to fetch the keys (a network error, not a JOSE one) is not the caller's fault.
            const unreachable = !(error instanceof util_errors/* JOSEError */.i4) || error instanceof util_errors/* JWKSTimeout */.xb;
            if (unreachable || error instanceof util_errors/* JWKSInvalid */.Dm)
                throw new Refusal(503, `cannot read the signing keys of ${oidc.issuer}: ${(0,errors/* messageOf */.bD)(error)}`);
            throw new Refusal(401, `the ID token is refused: ${whyInvalid(error)}`);
        }
        const caller = oidcCaller(payload);
        checkAllowList(payload, this.access, caller);
        return caller;
    }
}

;// CONCATENATED MODULE: ./src/serve/rate-limit.ts
/**
 * A token bucket per caller: up to `perMinute` signatures at once, refilled at `perMinute` a minute.
 * A burst (a matrix job starting) passes; a caller that keeps above the rate waits its turn.
 */
class RateLimiter {
    perMinute;
    buckets = new Map();
    perMs;
    constructor(perMinute) {
        this.perMinute = perMinute;
        this.perMs = perMinute / 60_000;
    }
    /** Takes one signature for `caller`: 0 when it may go now, else the milliseconds until it may. */
    take(caller, now = Date.now()) {
        const bucket = this.buckets.get(caller) ?? { tokens: this.perMinute, at: now };
        bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * this.perMs);
        bucket.at = now;
        this.buckets.set(caller, bucket);
        this.forgetFull(now);
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return 0;
        }
        return Math.ceil((1 - bucket.tokens) / this.perMs);
    }
    /** A bucket refilled to the brim is the same as none: dropped, so callers seen once do not pile up. */
    forgetFull(now) {
        if (this.buckets.size < 1000)
            return;
        for (const [caller, bucket] of this.buckets)
            if (bucket.tokens + (now - bucket.at) * this.perMs >= this.perMinute)
                this.buckets.delete(caller);
    }
}

;// CONCATENATED MODULE: ./src/serve/server.ts






/** A sign request is a digest and a few file names, or a batch of up to MAX_BATCH of them. */
const MAX_BODY = 1 << 20;
const MAX_BATCH = 64;
const HASHES = ['sha256', 'sha384', 'sha512'];
/** An answer other than success, with what the audit log records. */
class Answer extends Error {
    status;
    headers;
    constructor(status, message, headers = {}) {
        super(message);
        this.status = status;
        this.headers = headers;
    }
}
async function readBody(request) {
    if (Number(request.headers['content-length'] ?? 0) > MAX_BODY)
        throw new Answer(413, `the body exceeds ${MAX_BODY} bytes`);
    const chunks = [];
    let size = 0;
    try {
        for await (const chunk of request) {
            size += chunk.length;
            if (size > MAX_BODY)
                throw new Answer(413, `the body exceeds ${MAX_BODY} bytes`);
            chunks.push(chunk);
        }
    }
    catch (error) {
        if (error instanceof Answer)
            throw error;
        throw new Answer(CLOSED, 'the caller closed the connection before its request was whole');
    }
    return Buffer.concat(chunks);
}
/** The digests of a body: `{digest, hash, files}` alone, or a list of them under `batch`. */
function parseSignBody(body) {
    let value;
    try {
        value = JSON.parse(body.toString('utf8'));
    }
    catch {
        return { items: [{ partial: {}, problem: 'the body is not JSON' }], batch: false };
    }
    const batch = typeof value === 'object' && value !== null && 'batch' in value ? value.batch : undefined;
    if (batch === undefined)
        return { items: [parseSignItem(value)], batch: false };
    if (!Array.isArray(batch) || batch.length === 0 || batch.length > MAX_BATCH)
        return {
            items: [{ partial: {}, problem: `batch: expected a list of 1 to ${MAX_BATCH} sign requests` }],
            batch: false,
        };
    return { items: batch.map(parseSignItem), batch: true };
}
function parseSignItem(value) {
    if (typeof value !== 'object' || value === null)
        return { partial: {}, problem: 'the sign request is not a JSON object' };
    const { digest, hash, files } = value;
    const names = Array.isArray(files) ? files.filter((f) => typeof f === 'string') : [];
    const partial = {
        hash: typeof hash === 'string' ? hash : undefined,
        files: names,
    };
    const bytes = typeof digest === 'string' ? Buffer.from(digest, 'base64') : undefined;
    if (bytes && bytes.toString('base64') === digest)
        partial.digest = bytes.toString('hex');
    if (!HASHES.includes(hash))
        return { partial, problem: `hash: expected one of ${HASHES.join(', ')}` };
    if (!bytes || partial.digest === undefined || bytes.length !== (0,algorithms/* hashLength */.Hx)(hash))
        return {
            partial,
            problem: `digest: expected the ${hash} digest (${(0,algorithms/* hashLength */.Hx)(hash)} bytes) in base64`,
        };
    if (files !== undefined && (!Array.isArray(files) || names.length !== files.length))
        return { partial, problem: 'files: expected a list of file names' };
    return { request: { digest: bytes, hash: hash, files: names }, partial };
}
/** The status of a request whose caller hung up (nginx's "client closed request"): logged, never sent. */
const CLOSED = 499;
const RESULTS = { 200: 'signed', 502: 'failed', [CLOSED]: 'cancelled' };
const resultOf = (status) => RESULTS[status] ?? 'refused';
function auditedCaller(caller) {
    if (!caller)
        return null;
    return caller.kind === 'token' ? { token: caller.name } : { githubOidc: caller.claims };
}
/**
 * The HTTPS signing server: answers health checks, hands out the certificate chain and signs digests
 * for the callers its access rules admit, one audit line per request (health checks aside). The key
 * is shared by every request: a key store that must sign one at a time (a PKCS#11 token) queues them.
 */
class SigningServer {
    key;
    audit;
    report;
    server;
    auth;
    limiter;
    inFlight = 0;
    draining;
    stopping = false;
    constructor(config, tls, key, audit, report) {
        this.key = key;
        this.audit = audit;
        this.report = report;
        this.auth = new Authenticator(config.access);
        this.limiter = new RateLimiter(config.access.perMinute);
        const handler = (request, response) => void this.handle(request, response);
        this.server = tls
            ? (0,external_node_https_.createServer)({ ...tls, minVersion: 'TLSv1.2' }, handler)
            : (0,external_node_http_.createServer)(handler);
        this.server.headersTimeout = 10_000;
        this.server.requestTimeout = 60_000;
    }
    /** Listens; resolves with the URL it answers on (the port chosen when 0 was asked). */
    async listen(host, port) {
        await new Promise((resolve, reject) => {
            const failed = (error) => reject(new errors/* UserError */.yo(`cannot listen on ${host}:${port}: ${error.code ?? (0,errors/* messageOf */.bD)(error)}${error.code === 'EADDRINUSE' ? ' (another process holds the port)' : ''}`));
            this.server.once('error', failed);
            this.server.listen(port, host, () => {
                this.server.off('error', failed);
                resolve();
            });
        });
        const address = this.server.address();
        const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        return `${'setSecureContext' in this.server ? 'https' : 'http'}://${shown}:${address.port}`;
    }
    /** A reloaded config: new access rules (issuer keys kept), and the TLS files read again. */
    reload(access, tls) {
        this.auth = new Authenticator(access, this.auth);
        if (access.perMinute !== this.limiter.perMinute)
            this.limiter = new RateLimiter(access.perMinute);
        if (tls && 'setSecureContext' in this.server)
            this.server.setSecureContext(tls);
    }
    /** Stops accepting, answers the requests in flight, then closes every connection. */
    async drain() {
        this.stopping = true;
        const done = new Promise((resolve) => {
            this.draining = resolve;
            if (this.inFlight === 0)
                resolve();
        });
        this.server.close();
        this.server.closeIdleConnections();
        await done;
        this.server.closeAllConnections();
    }
    async handle(request, response) {
        this.inFlight++;
        try {
            await this.route(request, response);
        }
        catch (error) {
            this.report(`error: unexpected error answering ${request.method} ${request.url}: ${(0,errors/* messageOf */.bD)(error)}`);
            if (!response.headersSent)
                this.send(response, 500, { error: 'internal error' });
        }
        finally {
            if (--this.inFlight === 0)
                this.draining?.();
        }
    }
    send(response, status, value, headers = {}) {
        const body = JSON.stringify(value);
        response.writeHead(status, {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
            'Cache-Control': 'no-store',
            ...(this.stopping ? { Connection: 'close' } : {}),
            ...headers,
        });
        // The callback of end() never comes when the caller has hung up: 'close' (or having closed) says so.
        return new Promise((resolve) => {
            if (response.closed)
                return resolve();
            response.once('close', resolve);
            response.end(body, resolve);
        });
    }
    async route(request, response) {
        const path = (request.url ?? '/').split('?')[0];
        if (path === '/healthz') {
            return this.stopping
                ? this.send(response, 503, { status: 'stopping' })
                : this.send(response, 200, { status: 'ok' });
        }
        const record = {
            request: `${request.method} ${path}`,
            remote: request.socket.remoteAddress,
            caller: null,
        };
        // Every digest of the request is a line of its own, refused ones included.
        let items = [{ partial: {} }];
        const lines = (outcomes) => items.map((item, i) => {
            const { status, error } = outcomes[i];
            return {
                ...record,
                ...item.partial,
                result: resultOf(status),
                status,
                ...(error && { reason: error }),
            };
        });
        try {
            const routes = { '/sign': 'POST', '/certificate': 'GET' };
            if (!routes[path])
                throw new Answer(404, `no such endpoint: ${path} (use POST /sign, GET /certificate, GET /healthz)`);
            if (request.method !== routes[path])
                throw new Answer(405, `${path} takes ${routes[path]}`, { Allow: routes[path] });
            const parsed = path === '/sign' ? parseSignBody(await readBody(request)) : undefined;
            if (parsed)
                items = parsed.items;
            const caller = await this.auth.authenticate(request.headers.authorization).catch((error) => {
                if (error instanceof Refusal) {
                    record.caller = auditedCaller(error.caller);
                    throw new Answer(error.status, error.message, error.status === 503 ? { 'Retry-After': '5' } : {});
                }
                throw error;
            });
            record.caller = auditedCaller(caller);
            if (!parsed) {
                await this.audit.write([{ ...record, result: 'answered', status: 200 }]);
                return await this.send(response, 200, {
                    certificates: this.key.chain().map((c) => c.toString('base64')),
                });
            }
            // A caller that hung up (a cancelled job) is not worth the key's time: what it still waits for is dropped.
            const hungUp = new AbortController();
            response.once('close', () => hungUp.abort(new Error('the caller closed the connection')));
            const outcomes = await Promise.all(items.map((item) => this.signItem(item, caller, hungUp.signal)));
            // No signature leaves without its audit line on disk.
            await this.audit.write(lines(outcomes)).catch((error) => {
                const signed = outcomes.some((o) => o.signature);
                this.report(`error: audit log ${this.audit.path}: ${(0,errors/* messageOf */.bD)(error)}${signed ? '; signature withheld' : ''}`);
                if (signed)
                    throw new Answer(500, 'the audit log cannot be written; the signature is withheld');
            });
            if (parsed.batch)
                return await this.send(response, 200, { results: outcomes.map(answerOf) });
            const [outcome] = outcomes;
            if (outcome.signature)
                return await this.send(response, 200, answerOf(outcome));
            const wait = outcome.retryAfterMs && { 'Retry-After': String(Math.ceil(outcome.retryAfterMs / 1000)) };
            return await this.send(response, outcome.status, { error: outcome.error }, wait || {});
        }
        catch (error) {
            if (!(error instanceof Answer))
                throw error;
            if (error.status !== 500)
                await this.audit
                    .write(lines(items.map(() => ({ status: error.status, error: error.message }))))
                    .catch((failure) => this.report(`error: audit log ${this.audit.path}: ${(0,errors/* messageOf */.bD)(failure)}`));
            return this.send(response, error.status, { error: error.message }, error.headers);
        }
    }
    /** Signs one digest of a request, within the caller's rate. */
    async signItem(item, caller, hungUp) {
        if (!item.request)
            return { status: 400, error: item.problem };
        const waitMs = this.limiter.take(callerKey(caller));
        if (waitMs > 0)
            return {
                status: 429,
                error: `over ${this.limiter.perMinute} signatures a minute for this caller`,
                retryAfterMs: waitMs,
            };
        try {
            return { status: 200, signature: await this.key.sign(item.request.hash, item.request.digest, hungUp) };
        }
        catch (error) {
            if (hungUp.aborted)
                return { status: CLOSED, error: 'not signed: the caller closed the connection first' };
            return { status: 502, error: `${this.key.ready.description} failed to sign: ${(0,errors/* messageOf */.bD)(error)}` };
        }
    }
}
/** A signature with its chain, or why there is none (and, when throttled, when to come back). */
function answerOf({ signature, status, error, retryAfterMs }) {
    return signature
        ? {
            signature: signature.signature.toString('base64'),
            certificates: signature.certificates.map((c) => c.toString('base64')),
        }
        : { status, error, ...(retryAfterMs && { retryAfterMs }) };
}

// EXTERNAL MODULE: ./src/signers/digest-signature.ts + 7 modules
var digest_signature = __webpack_require__(6114);
// EXTERNAL MODULE: ./src/signers/issuer-chain.ts
var issuer_chain = __webpack_require__(4072);
// EXTERNAL MODULE: ./src/signers/key-stores.ts + 15 modules
var key_stores = __webpack_require__(554);
;// CONCATENATED MODULE: ./src/serve/signing-key.ts





/**
 * Opens the key store the config's `key` names, as a signing run would, and signs one probe digest:
 * the key works and its certificate chain is known before the first caller is served.
 */
async function openServedKey(inputs, env, notes) {
    const { configured } = (0,key_stores/* chooseKeyStore */.I)(inputs, notes);
    const extra = inputs['additional-certificates'];
    const additionalCertificates = extra ? await (0,issuer_chain/* readAdditionalCertificates */.ym)(extra) : undefined;
    // A server has no job to mask secrets in, and no workflow to ask for an ID token.
    const ready = await configured.open({ env, mask: () => undefined, additionalCertificates });
    notes.push(...ready.warnings);
    try {
        const sign = (hash, digest, signal) => ready.signer.signDigest(hash, digest, signal);
        const probe = (0,external_node_crypto_.createHash)('sha256').update((0,external_node_crypto_.randomBytes)(32)).digest();
        const first = await sign('sha256', probe);
        const leaf = new external_node_crypto_.X509Certificate(first.certificates[0]);
        if (!(0,digest_signature/* verifyDigestSignature */.Ew)(leaf.publicKey, 'sha256', probe, first.signature))
            throw new errors/* UserError */.yo(`${ready.description}: a probe signature does not verify with its certificate`);
        let chain = first.certificates;
        return {
            ready,
            chain: () => chain,
            async sign(hash, digest, signal) {
                const answer = await sign(hash, digest, signal);
                chain = answer.certificates;
                return answer;
            },
        };
    }
    catch (error) {
        await ready.close?.();
        throw error;
    }
}

;// CONCATENATED MODULE: ./src/cli/serve-command.ts







/** The TLS files, checked as TLS takes them: a broken pair names its files, before anything uses it. */
async function readTls(tls) {
    if (!tls)
        return undefined;
    const read = (path, what) => (0,promises_.readFile)(path).catch((error) => {
        throw new errors/* UserError */.yo(`tls.${what} ${path}: cannot read it: ${(0,errors/* messageOf */.bD)(error)}`);
    });
    const pair = { cert: await read(tls.cert, 'cert'), key: await read(tls.key, 'key') };
    try {
        (0,external_node_tls_.createSecureContext)(pair);
    }
    catch (error) {
        throw new errors/* UserError */.yo(`tls.cert ${tls.cert} and tls.key ${tls.key}: not a certificate and its private key: ${(0,errors/* messageOf */.bD)(error)}; give the server's certificate (chain) and its unencrypted key in PEM`);
    }
    return pair;
}
function describeAccess(config) {
    const { oidc, allow, tokens, perMinute } = config.access;
    const who = [
        oidc &&
            `${allow.length} allow-list entr${allow.length === 1 ? 'y' : 'ies'} for ${oidc.issuer} (audience ${oidc.audience})`,
        tokens.length && `${tokens.length} client token(s)`,
    ].filter(Boolean);
    return `${who.join(' and ')}; ${perMinute} signatures a minute per caller`;
}
/**
 * `vaultsign serve --config FILE`: opens the key once, serves until SIGTERM or SIGINT (then answers
 * the requests in flight, closes the key and returns 0), and reloads the access rules on SIGHUP.
 * Start-up problems throw a UserError (exit status 2) before anything listens.
 */
async function runServe(file, io, env) {
    let config = await readServeConfig(file, env);
    const tls = await readTls(config.tls);
    const audit = await AuditLog.open(config.auditLog);
    const notes = [];
    let key;
    try {
        key = await openServedKey(config.key, env, notes);
    }
    catch (error) {
        await audit.close();
        throw error;
    }
    notes.forEach((note) => io.err(`warning: ${note}`));
    const server = new SigningServer(config, tls, key, audit, io.err);
    let url;
    try {
        url = await server.listen(config.listen.host, config.listen.port);
    }
    catch (error) {
        await key.ready.close?.();
        await audit.close();
        throw error;
    }
    const subject = key.ready.certificate ? `: ${key.ready.certificate.subject.replace(/\n/g, ', ')}` : '';
    io.out(`vaultsign serve: listening on ${url} with ${key.ready.description}${subject}`);
    io.out(`vaultsign serve: ${describeAccess(config)}; audit log ${config.auditLog}`);
    const reload = async () => {
        try {
            const next = await readServeConfig(file, env);
            if (next.fixed !== config.fixed)
                io.err('warning: reload: listen, tls, key and auditLog take effect only on a restart; the running ones are kept');
            server.reload(next.access, await readTls(config.tls));
            config = { ...config, access: next.access };
            io.out(`vaultsign serve: reloaded ${file}: ${describeAccess(config)}`);
        }
        catch (error) {
            io.err(`error: reload of ${file} refused, the running config is kept: ${(0,errors/* messageOf */.bD)(error)}`);
        }
    };
    const onHangup = () => void reload();
    process.on('SIGHUP', onHangup);
    let stop = () => undefined;
    const signal = await new Promise((resolve) => {
        stop = resolve;
        process.on('SIGTERM', stop).on('SIGINT', stop);
    });
    // A second signal while draining ends the process at once, as signals do by default.
    process.off('SIGTERM', stop).off('SIGINT', stop);
    io.out(`vaultsign serve: ${signal}: no new requests; answering those in flight`);
    await server.drain();
    try {
        await key.ready.close?.();
    }
    finally {
        await audit.close();
    }
    process.off('SIGHUP', onHangup);
    io.out('vaultsign serve: stopped');
    return 0;
}


/***/ })

};
