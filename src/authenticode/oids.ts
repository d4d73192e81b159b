/** Object identifiers of the CMS and Authenticode structures we build and read. */
export const OID = {
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingTime: '1.2.840.113549.1.9.5',
  /** PKCS#9 countersignature: the legacy (pre-RFC 3161) Authenticode timestamp. */
  counterSignature: '1.2.840.113549.1.9.6',
  data: '1.2.840.113549.1.7.1',
  spcIndirectData: '1.3.6.1.4.1.311.2.1.4',
  spcStatementType: '1.3.6.1.4.1.311.2.1.11',
  spcSpOpusInfo: '1.3.6.1.4.1.311.2.1.12',
  individualCodeSigning: '1.3.6.1.4.1.311.2.1.21',
  nestedSignature: '1.3.6.1.4.1.311.2.4.1',
  rfc3161Timestamp: '1.3.6.1.4.1.311.3.3.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  /** szOID_KP_TIME_STAMP_SIGNING: what Windows also accepts on a legacy timestamp signer. */
  microsoftTimeStamping: '1.3.6.1.4.1.311.10.3.2',
} as const;

/** ecdsa-with-SHAxxx, by digest. */
export const ECDSA_OIDS = {
  sha1: '1.2.840.10045.4.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
} as const;
