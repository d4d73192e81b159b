import { fstatSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { UserError } from '../errors.js';
import { fileState, type FileState } from '../io/file-state.js';
import type { SignableFile } from './format.js';
import { HEAD_BYTES, detectFormat, supportedFormats } from './registry.js';

export interface OpenedFile {
  readonly file: SignableFile;
  readonly size: number;
  /** The file as it was opened: signing writes to it only if it is still the same. */
  readonly state: FileState;
  close(): Promise<void>;
}

/** Opens `path` read-only and picks its format from its content. */
export async function openSignable(path: string): Promise<OpenedFile> {
  // Stats and the head are read at once, not through the thread pool: microseconds each, less than the
  // trip (see DESIGN.md).
  let info;
  try {
    info = statSync(path);
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    throw new UserError(code === 'ENOENT' ? 'no such file' : `cannot read it (${code ?? message})`);
  }
  if (info.isDirectory()) throw new UserError('is a directory, not a file (name the files inside it)');
  if (!info.isFile()) throw new UserError('is not a regular file');
  const handle = await open(path, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new UserError(`cannot open it for reading (${error.code ?? error.message})`);
  });
  try {
    // The state of what was opened, not of the path: the digest is computed from this one.
    const state = fileState(fstatSync(handle.fd));
    const head = Buffer.alloc(Math.min(HEAD_BYTES, state.size));
    const bytesRead = readSync(handle.fd, head, 0, head.length, 0);
    if (bytesRead !== head.length) throw new UserError('the file changed while being read');
    const format = detectFormat(head, basename(path));
    if (!format) {
      throw new UserError(
        state.size === 0
          ? 'the file is empty'
          : `not a file format vaultsign can sign (supported: ${supportedFormats()}); leave it out of the file list`,
      );
    }
    const file = await format.open(handle, state.size, head);
    let closed: Promise<void> | undefined;
    // Closed once, whoever asks first (a file replaced whole is closed before the rename).
    const close = () => (closed ??= handle.close());
    return { file, size: state.size, state, close };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
