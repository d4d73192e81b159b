// The README's examples are pasted as they are: each workflow must run as shown. Checks what a
// paste gets wrong without a runner: inputs the action does not have, OIDC without `id-token: write`,
// and a federated-credential subject naming an environment the job does not declare (AADSTS700213).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import { REPO } from '../test/paths.js';

interface Step {
  uses?: string;
  with?: Record<string, unknown>;
}
interface Job {
  permissions?: Record<string, string> | string;
  environment?: string | { name: string };
  steps?: Step[];
}
interface Workflow {
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
const actionInputs = Object.keys(
  (load(readFileSync(join(REPO, 'action.yml'), 'utf8')) as { inputs: Record<string, unknown> }).inputs,
);

/** The fenced blocks of one language, with the line each starts on. */
function blocks(markdown: string, language: string): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```' + language) continue;
    const end = lines.indexOf('```', i + 1);
    found.push({ line: i + 1, text: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return found;
}

const usesVaultsign = (step: Step): boolean =>
  step.uses !== undefined && (step.uses === './' || step.uses.startsWith('vaultsign/vaultsign@'));

/** A vaultsign step that signs in with GitHub's ID token: Azure, and no secret, token or other credential. */
function usesGitHubOidc(step: Step): boolean {
  const w = step.with ?? {};
  const credential = String(w['azure-credential'] ?? 'auto');
  if (credential === 'github-oidc') return true;
  return (
    credential === 'auto' &&
    'azure-client-id' in w &&
    !('azure-client-secret' in w) &&
    !('azure-access-token' in w)
  );
}

const grantsIdToken = (permissions: Workflow['permissions']): boolean =>
  permissions === 'write-all' || (typeof permissions === 'object' && permissions['id-token'] === 'write');

const environmentOf = (job: Job): string | undefined =>
  typeof job.environment === 'object' ? job.environment.name : job.environment;

/** What is wrong with a workflow as pasted; `environment` is the one the federated credential names. */
function problems(workflow: Workflow, environment: string | undefined): string[] {
  const found: string[] = [];
  for (const [name, job] of Object.entries(workflow.jobs)) {
    const steps = (job.steps ?? []).filter(usesVaultsign);
    for (const step of steps)
      for (const key of Object.keys(step.with ?? {}))
        if (!actionInputs.includes(key)) found.push(`job ${name}: input ${key} is not in action.yml`);
    if (!steps.some(usesGitHubOidc)) continue;
    const granted = job.permissions === undefined ? workflow.permissions : job.permissions;
    if (!grantsIdToken(granted)) found.push(`job ${name}: GitHub OIDC without permissions: id-token: write`);
    if (environment !== undefined && environmentOf(job) !== environment)
      found.push(
        `job ${name}: the credential trusts environment:${environment} but the job has no such environment`,
      );
  }
  return found;
}

/** The environment named by the README's `az ad app federated-credential create` subject, if any. */
function trustedEnvironment(): string | undefined {
  const subjects = blocks(readme, 'sh').flatMap(({ text }) =>
    [...text.matchAll(/"subject":\s*"repo:[^":]+\/[^":]+:environment:([^"]+)"/g)].map((m) => m[1]),
  );
  expect(subjects.length).toBeLessThanOrEqual(1);
  return subjects[0];
}

const workflows = blocks(readme, 'yaml')
  .map(({ line, text }) => ({ line, parsed: load(text) as Workflow }))
  .filter(({ parsed }) => typeof parsed === 'object' && parsed !== null && 'jobs' in parsed);

describe('README examples', () => {
  const environment = trustedEnvironment();

  it('shows a federated credential for an environment and a Quick start workflow', () => {
    expect(environment).toBe('release');
    const quickStart = blocks(readme, 'yaml')[0];
    expect(quickStart.line).toBeGreaterThan(readme.split('\n').indexOf('## Quick start'));
    expect(workflows[0]?.line).toBe(quickStart.line);
  });

  it('every workflow uses only inputs action.yml declares, grants id-token for OIDC, declares the trusted environment', () => {
    for (const { line, parsed } of workflows)
      expect({ line, problems: problems(parsed, environment) }).toEqual({ line, problems: [] });
  });

  it('.github/workflows/example-release.yml passes the same checks', () => {
    const parsed = load(
      readFileSync(join(REPO, '.github', 'workflows', 'example-release.yml'), 'utf8'),
    ) as Workflow;
    expect(problems(parsed, environment)).toEqual([]);
  });

  it('the checks catch each mistake (the Quick start before this test existed had the last one)', () => {
    const step = (w: Record<string, unknown>): Step => ({ uses: 'vaultsign/vaultsign@v1', with: w });
    const oidc = { 'azure-client-id': 'x', 'azure-key-vault-url': 'https://v.vault.azure.net' };
    expect(problems({ jobs: { a: { steps: [step({ 'key-vault-url': 'x' })] } } }, undefined)).toEqual([
      'job a: input key-vault-url is not in action.yml',
    ]);
    expect(problems({ jobs: { a: { steps: [step(oidc)] } } }, undefined)).toEqual([
      'job a: GitHub OIDC without permissions: id-token: write',
    ]);
    expect(
      problems({ permissions: { 'id-token': 'write' }, jobs: { a: { steps: [step(oidc)] } } }, 'release'),
    ).toEqual(['job a: the credential trusts environment:release but the job has no such environment']);
    // A client secret is not OIDC: neither id-token nor the environment's subject matter.
    expect(
      problems({ jobs: { a: { steps: [step({ ...oidc, 'azure-client-secret': 's' })] } } }, 'release'),
    ).toEqual([]);
  });

  describe('every sh block parses with bash -n', () => {
    const dir = mkdtempSync(join(tmpdir(), 'readme-sh-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const sh = blocks(readme, 'sh');

    it('finds the sh blocks', () => expect(sh.length).toBeGreaterThanOrEqual(3));

    it.each(sh)('block at line $line', ({ line, text }) => {
      const file = join(dir, `block-${line}.sh`);
      writeFileSync(file, text);
      expect(() => execFileSync('bash', ['-n', file], { stdio: 'pipe' })).not.toThrow();
    });
  });
});
