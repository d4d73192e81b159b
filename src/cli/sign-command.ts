import type { SignConfig } from '../config/sign-config.js';
import { signFiles, type FileResult } from '../pipeline/sign-files.js';
import { loadLocalSigner } from '../signers/local-signer.js';
import type { Console } from './main.js';

function line(result: FileResult): string {
  const seconds = (result.durationMs / 1000).toFixed(2);
  const when = result.timestamp ? `, timestamp ${result.timestamp.toISOString()}` : '';
  return `${result.status.padEnd(7)} ${result.path}: ${result.detail}${when} (${seconds} s)`;
}

export async function runSign(config: SignConfig, files: string[], io: Console): Promise<number> {
  for (const warning of config.warnings) io.err(`warning: ${warning}`);
  const signer = await loadLocalSigner(config.key);
  const results = await signFiles(files, signer, config.settings, config.concurrency, (result) =>
    (result.status === 'failed' ? io.err : io.out)(line(result)),
  );
  const count = (status: FileResult['status']) => results.filter((r) => r.status === status).length;
  io.out(`${count('signed')} signed, ${count('skipped')} skipped, ${count('failed')} failed`);
  return count('failed') > 0 ? 1 : 0;
}
