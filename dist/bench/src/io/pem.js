/** The DER bodies of the PEM blocks with `label` (e.g. CERTIFICATE), in file order. */
export function pemBlocks(text, label) {
    const pattern = new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`, 'g');
    return [...text.matchAll(pattern)].map((m) => Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}
