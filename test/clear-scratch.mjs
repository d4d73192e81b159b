// Jest globalSetup and globalTeardown: empties .cache/work, the per-test scratch folders (hundreds of
// MB a run). Only here, never per file: parallel workers read their scratch folders until they finish.
// The PKI and fixtures beside it in .cache are kept on purpose (slow to build).
import { rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default async function clearScratch() {
  await rm(join(dirname(fileURLToPath(import.meta.url)), '..', '.cache', 'work'), {
    recursive: true,
    force: true,
  });
}
