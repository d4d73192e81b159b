export const id = 828;
export const ids = [828];
export const modules = {

/***/ 7828:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   AnswerChains: () => (/* binding */ AnswerChains)
/* harmony export */ });
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(7598);
/* harmony import */ var node_crypto__WEBPACK_IMPORTED_MODULE_0___default = /*#__PURE__*/__webpack_require__.n(node_crypto__WEBPACK_IMPORTED_MODULE_0__);
/* harmony import */ var pkijs__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(943);
/* harmony import */ var _errors_js__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(3916);



/**
 * The certificates of a sign answer's `signingCertificate`: base64 of a MIME base64 text (line breaks
 * and all) of a DER PKCS#7 SignedData whose `certificates` hold the leaf and its issuers, in no fixed order.
 */
function certificatesOfBag(signingCertificate) {
    try {
        // Node's base64 decoder skips the inner text's line breaks.
        const der = Buffer.from(Buffer.from(signingCertificate, 'base64').toString('latin1'), 'base64');
        const signedData = new pkijs__WEBPACK_IMPORTED_MODULE_1__/* .SignedData */ .dA6({
            schema: pkijs__WEBPACK_IMPORTED_MODULE_1__/* .ContentInfo */ ._Fs.fromBER(new Uint8Array(der)).content,
        });
        const certificates = (signedData.certificates ?? [])
            .filter((c) => c instanceof pkijs__WEBPACK_IMPORTED_MODULE_1__/* .Certificate */ .usT)
            .map((c) => new node_crypto__WEBPACK_IMPORTED_MODULE_0__.X509Certificate(Buffer.from(c.toSchema().toBER())));
        if (certificates.length === 0)
            throw new Error('it holds no certificate');
        return certificates;
    }
    catch (error) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_2__/* .UserError */ .yo(`Artifact Signing answered with a signing certificate that cannot be read (${error.message}); the file is unchanged`);
    }
}
/**
 * The chain of the key that made a signature: the certificate whose key verifies it (chosen by
 * content, never by position in the bag), then each issuer in turn, then any others.
 */
function chainOfSignature(certificates, verifies) {
    const leaf = certificates.find((c) => !c.ca && verifies(c.publicKey));
    if (!leaf) {
        throw new _errors_js__WEBPACK_IMPORTED_MODULE_2__/* .UserError */ .yo('Artifact Signing answered with a signature that no certificate of its answer verifies; the file is unchanged');
    }
    const chain = [leaf];
    for (let current = leaf;;) {
        const issuer = certificates.find((c) => !chain.includes(c) && current.checkIssued(c));
        if (!issuer)
            break;
        chain.push(issuer);
        current = issuer;
    }
    return [...chain, ...certificates.filter((c) => !chain.includes(c))].map((c) => Buffer.from(c.raw));
}
/**
 * The chains of sign answers, each bag decoded once: the service sends the same bag until its
 * certificate rotates, and one chain array per leaf lets the CMS builder parse that chain once too.
 * Every answer's signature still picks, and is checked against, its own leaf.
 */
class AnswerChains {
    complete;
    bag;
    /** `complete` checks a new leaf and gives the chain to embed; it runs once per leaf. */
    constructor(complete) {
        this.complete = complete;
    }
    of(signingCertificate, verifies) {
        if (this.bag?.text !== signingCertificate) {
            this.bag = {
                text: signingCertificate,
                certificates: certificatesOfBag(signingCertificate),
                chains: new Map(),
            };
        }
        const chain = chainOfSignature(this.bag.certificates, verifies);
        const leaf = chain[0].toString('base64');
        let complete = this.bag.chains.get(leaf);
        if (!complete) {
            complete = this.complete(chain);
            this.bag.chains.set(leaf, complete);
        }
        return complete;
    }
}


/***/ })

};
