import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The repository root, wherever jest runs from. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Generated test material (PKI, fixtures): rebuilt on demand, never committed. */
export const CACHE = join(REPO, '.cache');
export const CLI = join(REPO, 'dist', 'cli.js');
