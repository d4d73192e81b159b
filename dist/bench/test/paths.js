import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
/** The repository root, from the sources (jest) or their compiled copy (the benchmark, under build/). */
function findRepo(from) {
    for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
        if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'action.yml')))
            return dir;
    }
    throw new Error(`no repository above ${from}`);
}
export const REPO = findRepo(dirname(fileURLToPath(import.meta.url)));
/** Generated test material (PKI, fixtures): rebuilt on demand, never committed. */
export const CACHE = join(REPO, '.cache');
export const CLI = join(REPO, 'dist', 'cli.js');
