// ncc adds to its output folder and never empties it: chunks of an earlier build would ship in dist/.
import { rmSync } from 'node:fs';

for (const entry of ['cli', 'index']) rmSync(`build/${entry}`, { recursive: true, force: true });
