import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import type * as asn1js from 'asn1js';
import type { HashAlgorithm } from '../../authenticode/algorithms.js';
import { encodeSipInfo, sipInfoProblem, SPC_SIP_INFO } from '../../authenticode/sip-info.js';
import { UserError } from '../../errors.js';
import { readFully } from '../../io/exact-io.js';
import type { FileEdit } from '../../io/in-place-edit.js';
import type { FileFormat, IndirectData, SignableFile } from '../format.js';
import { SCRIPT_KINDS, scriptKindOf, type ScriptKind } from './script-kinds.js';
import { encodeAscii, readScriptText, toUtf16le, unitBytes, type ScriptText } from './script-text.js';
import { findSignatureBlock, signatureBlockText, type SignatureBlock } from './signature-block.js';

/** Scripts are read whole to find their block and decode their text; none is near this size. */
const MAX_SCRIPT_BYTES = 64 << 20;

class ScriptFile implements SignableFile {
  readonly format: string;
  readonly signature: Buffer | undefined;
  private readonly digests = new Map<HashAlgorithm, Buffer>();

  constructor(
    private readonly bytes: Buffer,
    private readonly kind: ScriptKind,
    private readonly text: ScriptText,
    private readonly block: SignatureBlock | undefined,
  ) {
    this.format = kind.name;
    this.signature = block?.der;
  }

  /** File offset of a position in the text's units. */
  private offset(unit: number): number {
    return this.text.bomLength + unit * unitBytes(this.text.encoding);
  }

  /** Where the block is, or goes: in units of the text, which is the same with or without the block. */
  private insertionPoint(): number {
    if (this.block) return this.block.start;
    if (!this.kind.insertBefore) return this.text.units.length;
    const at = this.text.units.lastIndexOf(this.kind.insertBefore);
    if (at < 0)
      throw new UserError(
        `it has no ${this.kind.insertBefore}: a ${this.kind.name}'s signature goes before its last ${this.kind.insertBefore}`,
      );
    return at;
  }

  /**
   * The hash of the text without the block (and the line break before it) as UTF-16LE, the BOM as
   * U+FEFF where the SIP signs it, and for Windows Script Host the block's position in UTF-16 units.
   */
  private digest(hash: HashAlgorithm): Buffer {
    const cached = this.digests.get(hash);
    if (cached) return cached;
    const { bytes, text, kind, block } = this;
    const utf16 = (from: number, to: number) => toUtf16le(bytes.subarray(from, to), text.encoding);
    const hasher = createHash(hash);
    if (kind.bomSigned && text.bomLength) hasher.update(Buffer.from([0xff, 0xfe]));
    const insertAt = this.insertionPoint();
    const beforeEnd = block ? block.start : text.units.length;
    const before = utf16(text.bomLength, this.offset(beforeEnd));
    hasher.update(before);
    if (block) hasher.update(utf16(this.offset(block.end), bytes.length));
    if (kind.hashesPosition) {
      // UTF-16 units before the block: its place in the text as Windows decodes it, not in the file.
      const prefix = insertAt === beforeEnd ? before : utf16(text.bomLength, this.offset(insertAt));
      const position = Buffer.alloc(4);
      position.writeUInt32LE(prefix.length / 2);
      hasher.update(position);
    }
    const digest = hasher.digest();
    this.digests.set(hash, digest);
    return digest;
  }

  indirectData(hash: HashAlgorithm): Promise<IndirectData> {
    return Promise.resolve({
      type: SPC_SIP_INFO,
      value: encodeSipInfo(this.kind.sip),
      hash,
      digest: this.digest(hash),
    });
  }

  checkIndirectData(type: string, value: asn1js.AsnType | undefined): Promise<string | undefined> {
    return Promise.resolve(sipInfoProblem(type, value, this.kind.sip, `a ${this.kind.name}`));
  }

  /**
   * The old block (if any) cut, the new one written where it was or goes, in the file's encoding; a
   * .wsf's text after the block (its last `</job>` on) is written again after the new block.
   */
  signatureEdit(signature: Buffer): Promise<FileEdit> {
    const block = encodeAscii(signatureBlockText(signature, this.kind), this.text.encoding);
    const insertAt = this.insertionPoint();
    const rest = this.bytes.subarray(this.offset(this.block ? this.block.end : insertAt));
    return Promise.resolve({
      patches: [],
      truncateTo: this.offset(insertAt),
      append: Buffer.concat([block, rest]),
    });
  }
}

async function openScript(
  kind: ScriptKind,
  handle: FileHandle,
  size: number,
  head: Buffer,
): Promise<SignableFile> {
  if (size > MAX_SCRIPT_BYTES)
    throw new UserError(
      `the ${kind.name} is ${size} bytes; vaultsign signs scripts of up to ${MAX_SCRIPT_BYTES} bytes`,
    );
  // Most scripts are shorter than the head read to tell the format: no second read.
  const bytes = head.length === size ? head : await readFully(handle, size, 0);
  if (!bytes) throw new UserError('the file changed while being read (it became shorter)');
  const text = readScriptText(bytes, kind);
  const block = findSignatureBlock(text.units, kind);
  // osslsigncode sees no block at a file's very start: a script with no text would carry one it cannot see.
  if (text.units.length === (block ? block.end - block.start : 0))
    throw new UserError(
      `the ${kind.name} is empty${block ? ' but for its signature block' : ''}: there is no script to sign`,
    );
  return new ScriptFile(bytes, kind, text, block);
}

/** One format per kind of script, told by the extension alone (their content cannot tell them). */
export const scriptFormats: readonly FileFormat[] = SCRIPT_KINDS.map((kind) => ({
  name: `${kind.name} (${kind.extensions.join(' ')})`,
  matches: (_head: Buffer, name: string) => scriptKindOf(name) === kind,
  open: (handle: FileHandle, size: number, head: Buffer) => openScript(kind, handle, size, head),
}));
