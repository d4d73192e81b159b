import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { TestPki } from '../pki.js';
import {
  certificateBag,
  doublyEncoded,
  ensureArtifactSigningCa,
  issueLeaf,
  loadCertificate,
  type ArtifactSigningCa,
  type Certificate,
  type Leaf,
} from './artifact-signing-ca.js';
import type { EntraId } from './entra-id.js';
import { json, startHttps } from './https-server.js';
import { verifyJwt } from './jwt.js';
import {
  API_VERSIONS,
  errorDetail,
  operationStatus,
  route,
  signRequest,
  type OperationState,
  type ResponseShape,
} from './artifact-signing-protocol.js';
import { pkcs1SignDigest, pssSignDigest, type DigestHash } from './rsa-digest-sign.js';

export const ARTIFACT_SIGNING_AUDIENCE = 'https://codesigning.azure.net';
export const SIGNER_ROLE = 'Artifact Signing Certificate Profile Signer';
/** The same role under its earlier names, still on older assignments. */
const SIGNER_ROLES = [
  SIGNER_ROLE,
  'Trusted Signing Certificate Profile Signer',
  'Code Signing Certificate Profile Signer',
];
export type CertificateRole = 'leaf' | 'intermediate' | 'root';

export interface RoleAssignment {
  /** The token's oid. */
  readonly identity: string;
  readonly role: string;
  /** `account` (all its profiles) or `account/profile`. */
  readonly scope: string;
}

export interface ArtifactSigningOptions {
  readonly tenantId: string;
  readonly entra: EntraId;
  /** The accounts' region, the first label of the host (default `eus`). */
  readonly region?: string;
  /** Certificate profiles per code signing account. */
  readonly accounts: Readonly<Record<string, readonly string[]>>;
  readonly roleAssignments: readonly RoleAssignment[];
  /** Shape of every operation status; by default the api-version's (2022: flat, 2023: wrapped in `result`). */
  readonly responseShape?: ResponseShape;
  /** Order of the bag's certificates (default: intermediate, leaf, root — the leaf neither first nor last). */
  readonly certificateOrder?: readonly CertificateRole[];
  readonly subject?: string;
  /** A new leaf (new key, serial and thumbprint) after every N signatures (default: never). */
  readonly rotateEvery?: number;
  /** Polls answered InProgress before an operation succeeds (default 1), for at least this long (ms). */
  readonly pollsInProgress?: number;
  readonly inProgressMs?: number;
  /** Retry-After (seconds) on 202 and InProgress answers (default 1, as the service says). */
  readonly retryAfterSeconds?: number;
  /** Retry-After (seconds) on 429s (default 1). */
  readonly throttleRetryAfterSeconds?: number;
  /** Delay before every answer (ms). */
  readonly latencyMs?: number;
  /** The first N sign calls answer 429, the next M answer 503. */
  readonly throttleFirst?: number;
  readonly unavailableFirst?: number;
  /** The first N accepted operations stay InProgress forever; the next M end Failed. */
  readonly stallFirst?: number;
  readonly failFirst?: number;
}

export interface ArtifactSigning {
  /** `https://<region>.codesigning.azure.net:<port>`: the endpoint input. */
  readonly endpoint: string;
  /** The same server under another region's host name (it must resolve to loopback). */
  endpointFor(region: string): string;
  readonly ca: ArtifactSigningCa;
  readonly root: Certificate;
  readonly intermediate: Certificate;
  /** Successful signatures per digest (hex): proves nothing was signed twice. */
  readonly signedDigests: Map<string, number>;
  /** Thumbprints of the leaves that made signatures, in order of first use. */
  readonly leavesUsed: Set<string>;
  /** `x-correlation-id` of each sign call (empty when absent). */
  readonly correlationIds: string[];
  readonly stats: {
    signCalls: number;
    accepted: number;
    polls: number;
    throttled: number;
    unavailable: number;
    unauthorized: number;
    forbidden: number;
    certchainCalls: number;
  };
  close(): Promise<void>;
}

interface Operation {
  readonly id: string;
  readonly scope: string;
  readonly shape: ResponseShape;
  readonly outcome: 'succeed' | 'stall' | 'fail';
  readonly createdAt: number;
  polls: number;
  result?: { signature: Buffer; leaf: Leaf };
}

/** Azure Artifact Signing's data plane for one region (research note: trusted-signing.md). */
export async function startArtifactSigning(
  pki: TestPki,
  options: ArtifactSigningOptions,
): Promise<ArtifactSigning> {
  const region = options.region ?? 'eus';
  const ca = await ensureArtifactSigningCa(pki);
  const [root, intermediate] = await Promise.all([
    loadCertificate(ca.root),
    loadCertificate(ca.intermediate),
  ]);
  const subject = options.subject ?? '/CN=vaultsign Test Publisher/O=vaultsign tests/C=US';
  const leaves: Promise<Leaf>[] = [issueLeaf(ca, subject)];
  await leaves[0];
  const order = options.certificateOrder ?? ['intermediate', 'leaf', 'root'];
  // One bag per leaf, as the service's answers stay the same until the leaf rotates.
  const bags = new WeakMap<Leaf, Buffer>();
  const bag = (leaf: Leaf) => {
    let built = bags.get(leaf);
    if (!built) {
      built = certificateBag(
        leaf,
        order.map((role) => ({ leaf, intermediate, root })[role]),
      );
      bags.set(leaf, built);
    }
    return built;
  };
  const signedDigests = new Map<string, number>();
  const leavesUsed = new Set<string>();
  const correlationIds: string[] = [];
  const stats = {
    signCalls: 0,
    accepted: 0,
    polls: 0,
    throttled: 0,
    unavailable: 0,
    unauthorized: 0,
    forbidden: 0,
    certchainCalls: 0,
  };
  const operations = new Map<string, Operation>();
  let signatures = 0;
  let port = 0;
  const retryAfter = String(options.retryAfterSeconds ?? 1);

  const send = (response: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer) => {
    response.writeHead(status, { 'Content-Length': String(body?.length ?? 0), ...headers }).end(body);
  };
  const forbidden = (response: ServerResponse) => {
    stats.forbidden++;
    send(response, 403, {});
  };
  const status = (op: Operation, state: OperationState) =>
    operationStatus(
      op.shape,
      op.id,
      state,
      op.result && state === 'Succeeded'
        ? { signature: op.result.signature, signingCertificate: doublyEncoded(bag(op.result.leaf)) }
        : undefined,
    );
  const sign = async (hash: DigestHash, pss: boolean, digest: Buffer) => {
    const leaf = await (leaves[Math.floor(signatures++ / (options.rotateEvery ?? Infinity))] ??= issueLeaf(
      ca,
      subject,
    ));
    const signature = (pss ? pssSignDigest : pkcs1SignDigest)(leaf.key, hash, digest);
    const hex = digest.toString('hex');
    signedDigests.set(hex, (signedDigests.get(hex) ?? 0) + 1);
    leavesUsed.add(leaf.thumbprint);
    return { signature, leaf };
  };

  const running = await startHttps(
    { ...pki, https: { ...pki.https, ...ca.server } },
    async (request, body, response) => {
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
      response.setHeader('api-supported-versions', API_VERSIONS.join(', '));
      const auth = request.headers.authorization ?? '';
      const checked = auth.startsWith('Bearer ')
        ? verifyJwt(auth.slice(7), options.entra.jwt.publicKey)
        : null;
      const claims = checked && !('problem' in checked) ? checked.claims : undefined;
      if (
        !claims ||
        claims.aud !== ARTIFACT_SIGNING_AUDIENCE ||
        claims.tid !== options.tenantId ||
        (typeof claims.nbf === 'number' && claims.nbf * 1000 > Date.now()) ||
        claims.iss !== `${options.entra.authorityHost}/${options.tenantId}/v2.0`
      ) {
        stats.unauthorized++;
        const challenge = `Bearer authorization="${options.entra.authorityHost}/${options.tenantId}", resource="${ARTIFACT_SIGNING_AUDIENCE}"`;
        return send(response, 401, {
          'WWW-Authenticate': checked ? `${challenge}, error="invalid_token"` : challenge,
        });
      }
      // Another region's host does not know the account: the service answers 403 with nothing to say why.
      if (request.headers.host !== `${region}.codesigning.azure.net:${port}`) return forbidden(response);

      const url = new URL(request.url ?? '/', `https://${request.headers.host}`);
      const r = route(request.method, url);
      if ('status' in r) return json(response, r.status, r.body);
      const { account, profile, action } = r;
      if (!options.accounts[account]?.includes(profile)) {
        const what = options.accounts[account]
          ? `Certificate profile '${profile}' was not found in code signing account '${account}'.`
          : `Code signing account '${account}' was not found.`;
        return json(response, 404, errorDetail('NotFound', what));
      }
      const scope = `${account}/${profile}`;
      const maySign = options.roleAssignments.some(
        (a) =>
          a.identity === claims.oid &&
          SIGNER_ROLES.includes(a.role) &&
          (a.scope === account || a.scope === scope),
      );
      if (!maySign) return forbidden(response);

      if (action === 'rootcert') {
        return send(
          response,
          200,
          {
            'Content-Type': 'application/x-x509-ca-cert',
            'Content-Disposition': 'attachment; filename=Root.cer',
          },
          root.der,
        );
      }
      if (action === 'certchain') {
        stats.certchainCalls++;
        const leaf = await leaves[leaves.length - 1];
        return send(response, 200, { 'Content-Type': 'application/pkcs7-mime' }, bag(leaf));
      }
      if (action !== 'sign') {
        const op = operations.get(action);
        if (!op || op.scope !== scope)
          return json(response, 404, errorDetail('NotFound', `Operation '${action}' was not found.`));
        stats.polls++;
        op.polls++;
        const done =
          op.outcome !== 'stall' &&
          op.polls > (options.pollsInProgress ?? 1) &&
          Date.now() - op.createdAt >= (options.inProgressMs ?? 0);
        const state = !done ? 'InProgress' : op.outcome === 'fail' ? 'Failed' : 'Succeeded';
        return json(response, 200, status(op, state), done ? {} : { 'Retry-After': retryAfter });
      }

      stats.signCalls++;
      correlationIds.push(String(request.headers['x-correlation-id'] ?? ''));
      const throttleFirst = options.throttleFirst ?? 0;
      if (stats.signCalls <= throttleFirst) {
        stats.throttled++;
        return json(
          response,
          429,
          errorDetail('TooManyRequests', 'Rate limit is exceeded. Try again later.'),
          {
            'Retry-After': String(options.throttleRetryAfterSeconds ?? 1),
          },
        );
      }
      if (stats.signCalls <= throttleFirst + (options.unavailableFirst ?? 0)) {
        stats.unavailable++;
        return json(
          response,
          503,
          errorDetail('ServiceUnavailable', 'The service is temporarily unavailable.'),
        );
      }
      const signing = signRequest(body);
      if ('status' in signing) return json(response, signing.status, signing.body);
      const n = ++stats.accepted;
      const stalls = options.stallFirst ?? 0;
      const op: Operation = {
        id: randomUUID(),
        scope,
        shape: options.responseShape ?? (r.apiVersion === API_VERSIONS[0] ? 'flat' : 'wrapped'),
        outcome: n <= stalls ? 'stall' : n <= stalls + (options.failFirst ?? 0) ? 'fail' : 'succeed',
        createdAt: Date.now(),
        polls: 0,
      };
      if (op.outcome === 'succeed') op.result = await sign(signing.hash, signing.pss, signing.digest);
      operations.set(op.id, op);
      const location = `https://${request.headers.host}${r.profilePath}/sign/${op.id}?api-version=${r.apiVersion}`;
      return json(response, 202, status(op, 'InProgress'), {
        'Operation-Location': location,
        'Retry-After': retryAfter,
      });
    },
  );
  port = running.port;
  const endpointFor = (r: string) => `https://${r}.codesigning.azure.net:${port}`;
  return {
    endpoint: endpointFor(region),
    endpointFor,
    ca,
    root,
    intermediate,
    signedDigests,
    leavesUsed,
    correlationIds,
    stats,
    close: () => running.close(),
  };
}
