import { messageOf } from '../errors.js';

const IN_WORDS: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EFBIG: 'the file would exceed the largest size this file system allows',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  EBUSY: 'the file is in use by another program',
  EIO: 'the disk reported an I/O error',
  ENOENT: 'the file or its folder no longer exists',
};

/** An OS error in words, its code kept for searching: "the disk is full (ENOSPC)". */
export function osErrorInWords(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code && IN_WORDS[code] ? `${IN_WORDS[code]} (${code})` : messageOf(error);
}
