export const id = 359;
export const ids = [359];
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

/***/ 3359:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   explain: () => (/* binding */ explain),
/* harmony export */   refusesEveryCall: () => (/* binding */ refusesEveryCall)
/* harmony export */ });
/* harmony import */ var _credentials_sign_in_failure_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(9754);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(3916);
/* harmony import */ var _io_http_error_js__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(641);



/** The role's names, newest first: older assignments still carry the earlier ones. */
const SIGNER_ROLES = [
    'Artifact Signing Certificate Profile Signer',
    'Trusted Signing Certificate Profile Signer',
    'Code Signing Certificate Profile Signer',
];
/** A refusal that every further call would meet too (the token, the role, the account or profile). */
function refusesEveryCall(error) {
    return error instanceof _io_http_error_js__WEBPACK_IMPORTED_MODULE_0__/* .HttpError */ .j$ && [401, 403, 404].includes(error.status);
}
/** The service's errors as what a release engineer can act on; 403 comes with an empty body. */
function explain(error, target) {
    const what = `certificate profile "${target.profile}" of Artifact Signing account "${target.account}" at ${target.endpoint}`;
    if (error instanceof _io_http_error_js__WEBPACK_IMPORTED_MODULE_0__/* .HttpError */ .j$) {
        if (error.status === 403) {
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`signing with ${what} was refused (HTTP 403); check in turn: ` +
                `(1) the identity signing in has the role "${SIGNER_ROLES[0]}" (formerly "${SIGNER_ROLES[1]}" or "${SIGNER_ROLES[2]}") on the certificate profile or the account; ` +
                `(2) the endpoint is the account's region: its Account URI in the Azure portal (e.g. https://eus.codesigning.azure.net for East US) — another region's endpoint answers 403; ` +
                '(3) the identity validation is completed and the certificate profile is active (not revoked, not recreated since the role was granted); ' +
                '(4) a role assigned in the last minutes may not be in effect yet: wait a few minutes and run again');
        }
        if (error.status === 404) {
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`${what}: not found (HTTP 404); check the account name (artifact-signing-account / trusted-signing-account-name), the certificate profile name (artifact-signing-certificate-profile / certificate-profile-name) and that the endpoint is the account's region`);
        }
        if (error.status === 401)
            return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`${what} refused the token (HTTP 401): ${(0,_credentials_sign_in_failure_js__WEBPACK_IMPORTED_MODULE_2__/* .firstLine */ .T)(error)}; is it the right tenant?`);
        return new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`signing with ${what} failed: ${error.message}`);
    }
    const signIn = (0,_credentials_sign_in_failure_js__WEBPACK_IMPORTED_MODULE_2__/* .signInFailure */ .V)(error);
    if (signIn)
        return signIn;
    return error instanceof _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo
        ? error
        : new _errors_js__WEBPACK_IMPORTED_MODULE_1__/* .UserError */ .yo(`signing with ${what} failed: ${(0,_credentials_sign_in_failure_js__WEBPACK_IMPORTED_MODULE_2__/* .firstLine */ .T)(error)}`);
}


/***/ })

};
