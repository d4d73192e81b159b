import { parseHashAlgorithm } from '../authenticode/algorithms.js';
import { UserError } from '../errors.js';
import { fileQuery, wholeNumber } from './file-query.js';
import { INPUTS, listOf } from './inputs.js';
import { keySource } from './key-source.js';
function httpUrl(value, name) {
    let url;
    try {
        url = new URL(value);
    }
    catch {
        throw new UserError(`${name}: "${value}" is not a URL (expected http://… or https://…)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new UserError(`${name}: "${value}" is not an http or https URL`);
    }
    return value;
}
function existing(inputs) {
    if (inputs['append-signature'] && inputs['skip-signed']) {
        throw new UserError('append-signature and skip-signed contradict each other: choose one');
    }
    return inputs['append-signature'] ? 'append' : inputs['skip-signed'] ? 'skip' : 'replace';
}
function timestamp(inputs, warnings) {
    const given = listOf(inputs['timestamp-rfc3161']);
    const urls = given.length ? given : listOf([INPUTS['timestamp-rfc3161'].default]);
    if (urls.some((u) => u.toLowerCase() === 'none')) {
        if (urls.length > 1)
            throw new UserError('timestamp-rfc3161: "none" cannot be combined with URLs');
        warnings.push('timestamping is off (timestamp-rfc3161: none): the signatures will stop being valid when the signing certificate expires');
        return undefined;
    }
    return {
        urls: urls.map((u) => httpUrl(u, 'timestamp-rfc3161')),
        digest: parseHashAlgorithm(inputs['timestamp-digest'] || 'sha256', 'timestamp-digest'),
    };
}
export function buildSignConfig(inputs, positionals = []) {
    const warnings = [];
    const descriptionUrl = inputs['description-url'] || undefined;
    if (descriptionUrl)
        httpUrl(descriptionUrl, 'description-url');
    const timeout = wholeNumber(inputs.timeout, 'timeout', 0, 30 * 24 * 3600);
    return {
        key: keySource(inputs),
        settings: {
            fileDigest: parseHashAlgorithm(inputs['file-digest'] || 'sha256', 'file-digest'),
            timestamp: timestamp(inputs, warnings),
            description: inputs.description || undefined,
            descriptionUrl,
            existing: existing(inputs),
            pageHashes: inputs['generate-page-hashes'] ?? false,
        },
        files: fileQuery(inputs, positionals),
        concurrency: wholeNumber(inputs.concurrency, 'concurrency', 1, 256) ?? Number(INPUTS.concurrency.default),
        timeoutSeconds: timeout || undefined,
        dryRun: inputs['dry-run'] ?? false,
        additionalCertificates: inputs['additional-certificates'] || undefined,
        warnings,
    };
}
